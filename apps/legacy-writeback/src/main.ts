import { runApp } from '@sync/app-core';
import { LegacyWritebackModule } from './legacy-writeback.module';

void runApp('legacy-writeback', (ctx) => LegacyWritebackModule.forRoot(ctx));
