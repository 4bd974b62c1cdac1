import { DependencyUnreachableError, UsageError, type DependencyKind } from './command';

export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
export const CONNECT_TIMEOUT_ENV = 'SYNC_CTL_CONNECT_TIMEOUT';

/** Seconds (decimals allowed, 0.1 to 600) from --connect-timeout or SYNC_CTL_CONNECT_TIMEOUT, in ms. */
export function parseConnectTimeout(text: string, source: string): number {
  const seconds = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(seconds >= 0.1 && seconds <= 600)) throw new UsageError(`${source} ${JSON.stringify(text)}: use a number of seconds from 0.1 to 600`);
  return Math.round(seconds * 1000);
}

export interface Dependency {
  readonly kind: DependencyKind;
  readonly label: string;
  readonly address: string;
}

/**
 * Runs `connect` against a deadline. A rejection, or no answer in time, becomes a
 * DependencyUnreachableError naming the dependency and its address. On a timeout the attempt is
 * left running (client libraries cannot all be cancelled): `abandon` may close it, and sync-ctl's
 * main exits the process when the command returns, so the library's own retries do not keep it alive.
 */
export async function reach<T>(dependency: Dependency, deadlineMs: number, connect: () => Promise<T>, hooks: { lastError?: () => string | undefined; abandon?: () => void } = {}): Promise<T> {
  const attempt = Promise.resolve().then(connect);
  attempt.catch(() => undefined); // a late rejection after the deadline is not unhandled
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), deadlineMs);
  });
  const unreachable = (reason: string) => new DependencyUnreachableError(dependency.kind, dependency.label, dependency.address, reason);
  try {
    const result = await Promise.race([attempt.then((value) => ({ value })), timeout]);
    if (result === 'timeout') {
      hooks.abandon?.();
      const last = hooks.lastError?.();
      throw unreachable(`no connection within ${deadlineMs / 1000} s${last ? ` (last error: ${oneLine(last)})` : ''}`);
    }
    return result.value;
  } catch (err) {
    if (err instanceof DependencyUnreachableError) throw err;
    throw unreachable(oneLine(err instanceof Error ? err.message : String(err)));
  } finally {
    clearTimeout(timer);
  }
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** host:port/database of a connection URL, without user or password. */
export function urlAddress(url: string): string {
  try {
    const u = new URL(url);
    const db = u.pathname.replace(/^\//, '');
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${db ? `/${db}` : ''}`;
  } catch {
    return '(unparsable URL)';
  }
}

/** host:port/database of a legacy system's connection settings (URL or host/port/database). */
export function legacyDbAddress(options: { url?: { reveal(): string }; host?: string; port?: number; database?: string }): string {
  if (options.url) return urlAddress(options.url.reveal());
  return `${options.host ?? '?'}${options.port ? `:${options.port}` : ''}${options.database ? `/${options.database}` : ''}`;
}

/** Closes a client without waiting more than `ms` (a pool still connecting to a silent host may never end). */
export async function closeWithin(close: () => Promise<unknown>, ms = 1000): Promise<void> {
  await Promise.race([Promise.resolve().then(close).catch(() => undefined), new Promise((resolve) => setTimeout(resolve, ms).unref())]);
}
