export { createLogger, NestJsonLogger } from './logger';
export type { AppLogger } from './logger';
export { MetricsRegistry } from './metrics';
export type { ConsumerLagFigure } from './metrics';
export { ReadinessRegistry } from './readiness.registry';
export { LivenessRegistry } from './liveness.registry';
export type { LivenessCheck } from './liveness.registry';
export type { ReadinessCheck } from './readiness.registry';
export { ObservabilityModule } from './observability.module';
