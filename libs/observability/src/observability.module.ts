import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { MetricsRegistry } from './metrics';
import { LivenessRegistry } from './liveness.registry';
import { ReadinessRegistry } from './readiness.registry';

/** Health probes and /metrics for one app. */
@Module({})
export class ObservabilityModule {
  static forApp(app: string): DynamicModule {
    return {
      module: ObservabilityModule,
      global: true,
      imports: [TerminusModule.forRoot({ errorLogStyle: 'json', logger: false })],
      controllers: [HealthController],
      providers: [
        { provide: MetricsRegistry, useValue: new MetricsRegistry(app) },
        { provide: ReadinessRegistry, useValue: new ReadinessRegistry() },
        { provide: LivenessRegistry, useValue: new LivenessRegistry() },
      ],
      exports: [MetricsRegistry, ReadinessRegistry, LivenessRegistry],
    };
  }
}
