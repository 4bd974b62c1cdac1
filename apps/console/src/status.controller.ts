import { Controller, Get, Header, Headers, Inject } from '@nestjs/common';
import { authoriseAdmin } from '@sync/app-core';
import { CONSOLE_CONTEXT, type ConsoleContext } from './console-context';
import { STATUS_PAGE_HTML } from './status-page';
import type { StatusReport } from './status-report';
import { StatusService } from './status.service';

/**
 * The status page. The page itself is static and holds no data; the figures come from
 * /admin/status, which needs the admin token like every admin endpoint.
 */
@Controller()
export class StatusController {
  constructor(
    @Inject(CONSOLE_CONTEXT) private readonly ctx: ConsoleContext,
    @Inject(StatusService) private readonly status: StatusService,
  ) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  // The page's script is inline and fetches only from this origin.
  @Header('Content-Security-Policy', "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:")
  page(): string {
    return STATUS_PAGE_HTML;
  }

  @Get('admin/status')
  @Header('Cache-Control', 'no-store')
  async report(@Headers('authorization') auth: string | undefined): Promise<StatusReport> {
    authoriseAdmin(this.ctx, auth);
    return this.status.report();
  }
}
