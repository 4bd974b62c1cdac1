import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './test-env';

/** Stops or starts the broker that scripts/infra.sh started (by its pid file), keeping its data. */
export function kafkaBroker(action: 'stop' | 'start'): void {
  execFileSync('bash', [path.join(repoRoot, 'scripts', 'infra.sh'), action === 'stop' ? 'kafka-stop' : 'kafka-start'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 180_000,
  });
}
