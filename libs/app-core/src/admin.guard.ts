import { timingSafeEqual } from 'node:crypto';
import { UnauthorizedException } from '@nestjs/common';
import type { AppEnv } from '@sync/config';

/** Checks `Authorization: Bearer <ADMIN_TOKEN>`; with no token configured, admin actions are off. */
export function authoriseAdmin(ctx: { readonly env: AppEnv }, header: string | undefined): void {
  const token = ctx.env.admin.token?.reveal();
  if (!token) throw new UnauthorizedException('admin actions are off: no ADMIN_TOKEN configured');
  const given = Buffer.from(header?.replace(/^Bearer /i, '') ?? '');
  const expected = Buffer.from(token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new UnauthorizedException('invalid admin token');
}
