import { Module, type DynamicModule } from '@nestjs/common';
import { CoreModule, type AppContext } from '@sync/app-core';
import { IdTranslationService } from './id-translation.service';
import { KeymapDbModule } from './keymap-db.module';

/** Owns the key map: legacy keys to global ids and back. */
@Module({})
export class IdTranslationModule {
  static forRoot(ctx: AppContext): DynamicModule {
    return { module: IdTranslationModule, imports: [CoreModule.forApp(ctx), KeymapDbModule.forRoot(ctx)], providers: [IdTranslationService] };
  }
}
