import { runApp } from '@sync/app-core';
import { IdTranslationModule } from './id-translation.module';

void runApp('id-translation', (ctx) => IdTranslationModule.forRoot(ctx));
