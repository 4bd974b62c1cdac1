import { Controller, Get, Headers, HttpCode, Inject, NotFoundException, Param, Post } from '@nestjs/common';
import { APP_CONTEXT, authoriseAdmin, type AppContext } from '@sync/app-core';
import { LegacyImportService } from './legacy-import.service';

/** legacy-import's own admin actions, protected by the bearer token from ADMIN_TOKEN(_FILE). */
@Controller('admin')
export class AdminController {
  constructor(
    @Inject(APP_CONTEXT) private readonly ctx: AppContext,
    @Inject(LegacyImportService) private readonly service: LegacyImportService,
  ) {}

  @Get('entities')
  entities(@Headers('authorization') auth: string | undefined): unknown {
    authoriseAdmin(this.ctx, auth);
    return this.service.entities();
  }

  @Post('entities/:entity/resnapshot')
  @HttpCode(202)
  async resnapshot(@Headers('authorization') auth: string | undefined, @Param('entity') entity: string): Promise<{ entity: string; resnapshot: 'requested' }> {
    authoriseAdmin(this.ctx, auth);
    if (!(await this.service.resnapshot(entity, 'admin-api', 'requested over HTTP'))) throw new NotFoundException(`entity ${entity} is not captured by this app`);
    return { entity, resnapshot: 'requested' };
  }
}
