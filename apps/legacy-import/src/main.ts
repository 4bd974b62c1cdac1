import { runApp } from '@sync/app-core';
import { LegacyImportModule } from './legacy-import.module';

void runApp('legacy-import', (ctx) => LegacyImportModule.forRoot(ctx));
