import { Module, type DynamicModule } from '@nestjs/common';
import { CoreModule, type AppContext } from '@sync/app-core';
import { LegacyDbModule } from '@sync/legacy-db';
import { AdminController } from './admin.controller';
import { LegacyImportService } from './legacy-import.service';

/** Captures committed legacy changes and publishes them to legacy.* topics. */
@Module({})
export class LegacyImportModule {
  static forRoot(ctx: AppContext): DynamicModule {
    return {
      module: LegacyImportModule,
      imports: [CoreModule.forApp(ctx), LegacyDbModule.forSystems(ctx.pipeline, ctx.logger)],
      controllers: [AdminController],
      providers: [LegacyImportService],
    };
  }
}
