import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../test/support/app-process';

export interface ProcessSpec {
  readonly name: string;
  /** Arguments after `node`, given the HTTP port of this start. */
  readonly args: (port: number) => string[];
  readonly env: Record<string, string>;
  readonly logDir: string;
  /** Pid files live here, so scripts/faults.sh can clean up by pid if this process dies. */
  readonly pidDir: string;
}

/**
 * One app (or the sample service) as its own process, like a supervisor runs it: started on a
 * free port with its log appended to a file, killed with SIGKILL on purpose, and restarted when it
 * exits on its own (reported through `onUnplannedExit`).
 */
export class ManagedProcess {
  private proc: ChildProcess | undefined;
  private exited: Promise<unknown> = Promise.resolve();
  private intentional = false;
  port = 0;
  starts = 0;

  constructor(
    private readonly spec: ProcessSpec,
    private readonly onUnplannedExit: (p: ManagedProcess, code: number | null, signal: NodeJS.Signals | null) => void,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get logFile(): string {
    return path.join(this.spec.logDir, `${this.spec.name}.log`);
  }

  isRunning(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.isRunning()) return;
    this.port = await freePort();
    this.starts++;
    const fd = openSync(this.logFile, 'a');
    writeFileSync(fd, `\n===== ${new Date().toISOString()} start #${this.starts} on port ${this.port} =====\n`);
    const proc = spawn(process.execPath, ['--enable-source-maps', ...this.spec.args(this.port)], {
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...this.spec.env, HTTP_PORT: String(this.port), HTTP_HOST: '127.0.0.1' },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    this.proc = proc;
    this.intentional = false;
    writeFileSync(this.pidFile(), `${proc.pid}\n`);
    this.exited = once(proc, 'exit').then(([code, signal]) => {
      rmSync(this.pidFile(), { force: true });
      if (!this.intentional) this.onUnplannedExit(this, code as number | null, signal as NodeJS.Signals | null);
    });
  }

  /** kill -9: no shutdown hook runs, in-flight work is lost mid-way. */
  async kill9(): Promise<number | undefined> {
    const pid = this.proc?.pid;
    if (!this.isRunning()) return pid;
    this.intentional = true;
    this.proc!.kill('SIGKILL');
    await this.exited;
    return pid;
  }

  /** SIGSTOP: the process freezes with everything it holds (connections, group membership, a batch in hand). */
  pause(): void {
    if (this.isRunning()) this.proc!.kill('SIGSTOP');
  }

  /** SIGCONT after pause(). */
  resume(): void {
    if (this.isRunning()) this.proc!.kill('SIGCONT');
  }

  /** Graceful stop (SIGTERM), SIGKILL after `timeoutMs`; says how it ended. */
  async stop(timeoutMs = 20_000): Promise<string> {
    if (!this.isRunning()) return 'not running';
    const proc = this.proc!;
    this.intentional = true;
    proc.kill('SIGTERM');
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      proc.kill('SIGKILL');
    }, timeoutMs);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
    return killed ? `did not exit within ${timeoutMs / 1000} s: SIGKILL` : `exit code ${proc.exitCode}`;
  }

  /** HTTP status of a GET on this process, 0 when nothing answers. */
  async status(pathname: string): Promise<number> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.port}${pathname}`, { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 0;
    }
  }

  private pidFile(): string {
    return path.join(this.spec.pidDir, `${this.spec.name}.pid`);
  }
}
