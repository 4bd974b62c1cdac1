import type { Pool } from 'pg';
import type { ChangePublisher } from '../../examples/new-service/src/change.publisher';
import type { ServiceRepository } from '../../examples/new-service/src/service.repository';
import { retryUntil } from './retry';
import type { NewOp } from './workload';

/**
 * The new service's own changes, as the sample service makes them (examples/new-service): write
 * its own tables first, then publish the events. Both steps are retried through outages; the
 * events keep their ids across retries, so a send that reached the broker before failing is a
 * redelivery (same command ids downstream), not a second change.
 */
export class NewSideDriver {
  retries = 0;

  constructor(
    private readonly repository: ServiceRepository,
    private readonly publisher: ChangePublisher,
    private readonly servicePool: Pool,
    private readonly deadlineMs: number,
  ) {}

  async apply(op: NewOp): Promise<void> {
    await retryUntil(`new side ${op.kind} (local write)`, this.deadlineMs, () => this.write(op), () => this.probe(op), () => this.retries++);
    await retryUntil(`new side ${op.kind} (publish)`, this.deadlineMs, () => this.publisher.publish(op.events), undefined, () => this.retries++);
  }

  private async write(op: NewOp): Promise<true> {
    switch (op.kind) {
      case 'create-user': {
        const u = op.user;
        await this.repository.createUser(u.globalId, u.name, u.email, { street: u.street, city: u.city, zip: u.zip });
        return true;
      }
      case 'move':
        await this.repository.moveUser(op.globalId, { street: op.street, city: op.city, zip: op.zip });
        return true;
      case 'change-email':
        await this.repository.changeUser(op.globalId, op.name, op.email);
        return true;
      case 'remove-user':
        await this.repository.removeUser(op.globalId);
        return true;
    }
  }

  private async probe(op: NewOp): Promise<true | undefined> {
    const row = async (sql: string, params: unknown[]): Promise<Record<string, unknown> | undefined> => (await this.servicePool.query(sql, params)).rows[0];
    switch (op.kind) {
      case 'create-user':
        return (await row('SELECT 1 FROM users WHERE id = $1', [op.user.globalId])) ? true : undefined;
      case 'move':
        return (await row('SELECT street FROM addresses WHERE user_id = $1', [op.globalId]))?.['street'] === op.street ? true : undefined;
      case 'change-email':
        return (await row('SELECT email FROM users WHERE id = $1', [op.globalId]))?.['email'] === op.email ? true : undefined;
      case 'remove-user':
        return (await row('SELECT 1 FROM users WHERE id = $1', [op.globalId])) ? undefined : true;
    }
  }
}
