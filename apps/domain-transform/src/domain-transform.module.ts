import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigValidationError } from '@sync/config';
import { CoreModule, EXIT_CONFIG, type AppContext } from '@sync/app-core';
import { loadMappings, MappingEngine } from '@sync/mapping';
import { DomainTransformService } from './domain-transform.service';
import { appMappers } from '@sync/custom-mappers';
import { MAPPING_ENGINE } from './tokens';

/** Builds the engine from the pipeline's mappings; bad mappings stop the app as bad config does (exit 2). */
function mappingEngine(ctx: AppContext): MappingEngine {
  const mappers = appMappers();
  try {
    return new MappingEngine(loadMappings(ctx.pipeline, mappers), mappers);
  } catch (err) {
    if (!(err instanceof ConfigValidationError)) throw err;
    ctx.logger.fatal({ err: err.message }, 'invalid configuration');
    process.exit(EXIT_CONFIG);
  }
}

/** Turns keyed.* row changes into domain events and domain events into writeback.* commands. */
@Module({})
export class DomainTransformModule {
  static forRoot(ctx: AppContext): DynamicModule {
    return {
      module: DomainTransformModule,
      imports: [CoreModule.forApp(ctx)],
      providers: [{ provide: MAPPING_ENGINE, useValue: mappingEngine(ctx) }, DomainTransformService],
    };
  }
}
