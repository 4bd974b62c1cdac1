export { createLogger, NestJsonLogger } from './logger';
export type { AppLogger } from './logger';
export { MetricsRegistry } from './metrics';
export type { ConsumerLagFigure } from './metrics';
export { ReadinessRegistry } from './readiness.registry';
export type { ReadinessCheck } from './readiness.registry';
export { ObservabilityModule } from './observability.module';
