import { execFile } from 'node:child_process';
import path from 'node:path';

/**
 * The broker and the PostgreSQL cluster of the run are started and stopped by scripts/faults.sh
 * (by pid file and data directory: only what that script started). The driver asks it, with the
 * environment faults.sh gave it.
 */
export class InfraControl {
  constructor(private readonly repoRoot: string) {}

  stopBroker(): Promise<string> {
    return this.run('kafka-stop');
  }

  startBroker(): Promise<string> {
    return this.run('kafka-start');
  }

  stopPostgres(): Promise<string> {
    return this.run('pg-stop');
  }

  startPostgres(): Promise<string> {
    return this.run('pg-start');
  }

  private run(command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile('bash', [path.join(this.repoRoot, 'scripts', 'faults.sh'), command], { env: process.env, timeout: 180_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`scripts/faults.sh ${command} failed: ${err.message}\n${stderr}`));
        else resolve(`${stdout}${stderr}`.trim());
      });
    });
  }
}
