import { runApp } from '@sync/app-core';
import { DomainTransformModule } from './domain-transform.module';

void runApp('domain-transform', (ctx) => DomainTransformModule.forRoot(ctx));
