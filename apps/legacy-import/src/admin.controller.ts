import { Controller, Get, Headers, HttpCode, Inject, NotFoundException, Param, Post, UnauthorizedException } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { APP_CONTEXT, type AppContext } from '@sync/app-core';
import { LegacyImportService } from './legacy-import.service';

/** Admin actions, protected by the bearer token from ADMIN_TOKEN(_FILE); without a token they are off. */
@Controller('admin')
export class AdminController {
  constructor(
    @Inject(APP_CONTEXT) private readonly ctx: AppContext,
    @Inject(LegacyImportService) private readonly service: LegacyImportService,
  ) {}

  private authorise(header: string | undefined): void {
    const token = this.ctx.env.admin.token?.reveal();
    if (!token) throw new UnauthorizedException('admin actions are off: no ADMIN_TOKEN configured');
    const given = Buffer.from(header?.replace(/^Bearer /i, '') ?? '');
    const expected = Buffer.from(token);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new UnauthorizedException('invalid admin token');
  }

  @Get('entities')
  entities(@Headers('authorization') auth: string | undefined): unknown {
    this.authorise(auth);
    return this.service.entities();
  }

  @Post('entities/:entity/resnapshot')
  @HttpCode(202)
  resnapshot(@Headers('authorization') auth: string | undefined, @Param('entity') entity: string): { entity: string; resnapshot: 'started' } {
    this.authorise(auth);
    if (!this.service.resnapshot(entity)) throw new NotFoundException(`entity ${entity} is not captured by this app`);
    return { entity, resnapshot: 'started' };
  }
}
