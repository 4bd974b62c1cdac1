import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { repoRoot } from './test-env';

export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  server.close();
  await once(server, 'close');
  return port;
}

/** One app running as its own process, the way it runs in production (compiled JS, env config). */
export class AppProcess {
  readonly output: string[] = [];
  private exit: Promise<number | null>;

  private constructor(readonly app: string, readonly port: number, readonly proc: ChildProcess) {
    proc.stdout?.on('data', (d: Buffer) => this.output.push(d.toString()));
    proc.stderr?.on('data', (d: Buffer) => this.output.push(d.toString()));
    this.exit = once(proc, 'exit').then(([code]) => code as number | null);
  }

  static async start(app: string, env: Record<string, string>): Promise<AppProcess> {
    const port = await freePort();
    const main = path.join(repoRoot, 'dist', 'apps', app, 'src', 'main.js');
    const proc = spawn(process.execPath, ['--enable-source-maps', main], {
      cwd: repoRoot,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', HTTP_PORT: String(port), HTTP_HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new AppProcess(app, port, proc);
  }

  url(pathname: string): string {
    return `http://127.0.0.1:${this.port}${pathname}`;
  }

  /** HTTP status of a GET, or 0 when nothing answers. */
  async status(pathname: string): Promise<number> {
    try {
      const res = await fetch(this.url(pathname), { signal: AbortSignal.timeout(8000) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 0;
    }
  }

  async json(pathname: string): Promise<{ status: number; body: unknown }> {
    const res = await fetch(this.url(pathname), { signal: AbortSignal.timeout(8000) });
    return { status: res.status, body: await res.json() };
  }

  /** Waits for the process to end by itself. */
  async waitExit(timeoutMs = 30_000): Promise<number | null> {
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exit;
    } finally {
      clearTimeout(timer);
    }
  }

  isRunning(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Sends a signal and waits for the exit code (killing it if it overstays `timeoutMs`). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<number | null> {
    if (!this.isRunning()) return this.exit;
    this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exit;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A crash: SIGKILL (no shutdown hooks, nothing committed or flushed), then waits for the exit. */
  async kill(): Promise<void> {
    await this.stop('SIGKILL', 5_000);
  }

  logs(): string {
    return this.output.join('');
  }
}
