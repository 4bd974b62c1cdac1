import { Module, type DynamicModule } from '@nestjs/common';
import { CoreModule, type AppContext } from '@sync/app-core';
import { LegacyDbModule } from '@sync/legacy-db';
import { LegacyWritebackService } from './legacy-writeback.service';

/** Applies resolved.* commands to the legacy databases. */
@Module({})
export class LegacyWritebackModule {
  static forRoot(ctx: AppContext): DynamicModule {
    return {
      module: LegacyWritebackModule,
      imports: [CoreModule.forApp(ctx), LegacyDbModule.forSystems(ctx.pipeline, ctx.logger)],
      providers: [LegacyWritebackService],
    };
  }
}
