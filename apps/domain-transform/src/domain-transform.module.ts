import { Module, type DynamicModule } from '@nestjs/common';
import { CoreModule, type AppContext } from '@sync/app-core';

/** Turns keyed.* row changes into domain events and domain events into writeback.* commands. */
@Module({})
export class DomainTransformModule {
  static forRoot(ctx: AppContext): DynamicModule {
    return { module: DomainTransformModule, imports: [CoreModule.forApp(ctx)] };
  }
}
