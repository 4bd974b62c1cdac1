import { Module, type DynamicModule } from '@nestjs/common';
import { ObservabilityModule } from '@sync/observability';
import type { AppContext } from './app-context';
import { ControlController } from './control.controller';
import { ControlWatcher } from './control-watcher.service';
import { KafkaCoreService } from './kafka-core.service';
import { APP_CONTEXT } from './tokens';

/** What every app shares: its validated context, probes and metrics, and its Kafka link. */
@Module({})
export class CoreModule {
  static forApp(ctx: AppContext): DynamicModule {
    return {
      module: CoreModule,
      global: true,
      imports: [ObservabilityModule.forApp(ctx.app)],
      controllers: [ControlController],
      providers: [{ provide: APP_CONTEXT, useValue: ctx }, KafkaCoreService, ControlWatcher],
      exports: [APP_CONTEXT, KafkaCoreService, ControlWatcher],
    };
  }
}
