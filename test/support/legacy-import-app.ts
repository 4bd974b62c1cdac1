import { AppProcess } from './app-process';
import { testBrokers } from './test-env';
import { waitFor } from './wait-for';

/** One captured entity as legacy-import's `GET /admin/entities` reports it. */
export interface ImportEntity {
  entity: string;
  sync: string;
  state?: { phase: string };
}

export async function importEntities(app: AppProcess, adminToken: string): Promise<ImportEntity[]> {
  const res = await fetch(app.url('/admin/entities'), { headers: { authorization: `Bearer ${adminToken}` } });
  return (await res.json()) as ImportEntity[];
}

/**
 * Starts legacy-import for a test and returns once it is ready and every captured entity has finished
 * its initial snapshot. Rows written during a snapshot may arrive twice (as a snapshot read and as a
 * change): correct at-least-once delivery, but it spoils a test that counts events.
 */
export async function startLegacyImport(env: { PIPELINE_FILE: string; LEGACY_DATABASE_URL: string; ADMIN_TOKEN: string } & Record<string, string>): Promise<AppProcess> {
  const app = await AppProcess.start('legacy-import', { KAFKA_BROKERS: testBrokers().join(','), LOG_LEVEL: 'warn', ...env });
  await waitFor('legacy-import ready', async () => (await app.status('/health/ready')) === 200 || (app.isRunning() ? undefined : Promise.reject(new Error(app.logs()))), 60_000, 200);
  await waitFor('every entity streaming', async () => {
    const list = await importEntities(app, env.ADMIN_TOKEN);
    return list.length > 0 && list.every((e) => e.state?.phase === 'streaming') ? true : undefined;
  }, 60_000, 100);
  return app;
}
