import { BadRequestException, Body, Controller, Get, Headers, HttpCode, Inject, Post } from '@nestjs/common';
import { ContractError } from '@sync/contracts';
import { parseControlMessage, type ControlRecord } from '@sync/control';
import type { AppContext } from './app-context';
import { authoriseAdmin } from './admin.guard';
import { ControlWatcher } from './control-watcher.service';
import { APP_CONTEXT } from './tokens';

/** The control actions of `sync-ctl`, over HTTP on every app (bearer token from ADMIN_TOKEN). */
@Controller('admin/control')
export class ControlController {
  constructor(
    @Inject(APP_CONTEXT) private readonly ctx: AppContext,
    @Inject(ControlWatcher) private readonly control: ControlWatcher,
  ) {}

  @Get()
  list(@Headers('authorization') auth: string | undefined): ControlRecord[] {
    authoriseAdmin(this.ctx, auth);
    return this.control.state.all();
  }

  /**
   * Body: `{ entity, direction, state, reason, by }` to switch an entity, or
   * `{ entity, action: "resnapshot", reason, by }`; `at` is set here.
   */
  @Post()
  @HttpCode(202)
  async change(@Headers('authorization') auth: string | undefined, @Body() body: unknown): Promise<{ accepted: true }> {
    authoriseAdmin(this.ctx, auth);
    try {
      const message = parseControlMessage({ by: 'admin-api', reason: '', ...(body as object), at: new Date().toISOString() });
      await this.control.publish(message);
      return { accepted: true };
    } catch (err) {
      if (err instanceof ContractError) throw new BadRequestException(err.message);
      throw err;
    }
  }
}
