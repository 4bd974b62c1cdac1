import { Module, type DynamicModule } from '@nestjs/common';
import { ObservabilityModule } from '@sync/observability';
import { CONSOLE_CONTEXT, type ConsoleContext } from './console-context';
import { ConsoleFollower } from './console-follower.service';
import { StatusController } from './status.controller';
import { StatusService } from './status.service';

/** The read-only status console: probes, its own /metrics, the status page and its JSON. */
@Module({})
export class ConsoleModule {
  static forRoot(ctx: ConsoleContext): DynamicModule {
    return {
      module: ConsoleModule,
      imports: [ObservabilityModule.forApp('console')],
      controllers: [StatusController],
      providers: [{ provide: CONSOLE_CONTEXT, useValue: ctx }, ConsoleFollower, StatusService],
    };
  }
}
