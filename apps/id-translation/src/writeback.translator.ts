import { LruCache, type KeymapRepository, type KeymapTransaction, type RowKey, type TableIndex, type TargetState } from '@sync/keymap';
import type { InboundMessage, LogSink, OutboundRecord } from '@sync/kafka';
import { errorMessage, EnvironmentError } from '@sync/errors';
import { keymapFailure } from './keymap-failure';
import { streamLabels, type TranslationMetrics } from './translation-metrics';
import { expiredDeadLetter } from './writeback/expired-parked';
import { linksOf, storeLinks } from './writeback/id-map-links';
import { KeymapSession } from './writeback/keymap-session';
import { storeAndRelease } from './writeback/release-parked';
import { resolveItems } from './writeback/resolve-items';
import { itemFromMessage, keysOf } from './writeback/writeback-item';
import { emptyWork, type Work } from './writeback/writeback-work';

export interface WritebackTranslatorOptions {
  /** Dead letters go to `dlq.<app>`. */
  readonly app: string;
  readonly parkTimeoutMs: number;
  readonly cacheSize: number;
  readonly log: LogSink;
  readonly metrics?: TranslationMetrics;
}

type Send = (records: readonly OutboundRecord[]) => Promise<void>;
/** Resolves while the batch's partition is still this replica's; throws (PartitionRevokedError) once it is not. */
type Fence = () => Promise<void>;
const unfenced: Fence = () => Promise.resolve();

/**
 * writeback.* → resolved.*, idmap.links, and the parked commands in between. Every batch runs in
 * one transaction under the key map's write-back lock, and its outputs are sent before that
 * transaction commits: a crash in between replays the batch, which resolves to the same commands.
 * The steps live in ./writeback/: items, the key-map session, resolving, storing, releasing, links.
 */
export class WritebackTranslator {
  private readonly cache: LruCache<string, TargetState>;

  constructor(
    private readonly index: TableIndex,
    private readonly repository: KeymapRepository,
    private readonly send: Send,
    private readonly options: WritebackTranslatorOptions,
  ) {
    this.cache = new LruCache(options.cacheSize);
  }

  async handleRequests(messages: readonly InboundMessage[], fence: Fence = unfenced): Promise<void> {
    const items = messages.map((m) => itemFromMessage(m, this.index));
    const work = await this.locked(async (tx, session) => {
      await session.load(items.flatMap(keysOf), true);
      const work = emptyWork();
      await resolveItems(items, session, work);
      await this.write(tx, session, work, [], fence);
      return work;
    });
    this.count(work, 'writeback');
  }

  async handleLinks(messages: readonly InboundMessage[], fence: Fence = unfenced): Promise<void> {
    const links = linksOf(messages, this.index);
    if (links.length === 0) return;
    const work = await this.locked(async (tx, session) => {
      await storeLinks(tx, links, this.options.log, this.options.metrics);
      const work = emptyWork();
      work.keyed.push(...links.map((l) => l.link.globalId));
      await this.write(tx, session, work, [], fence);
      return work;
    });
    this.count(work, 'links');
  }

  /** Dead-letters commands parked longer than the limit, then re-checks the commands queued behind them. */
  async expireParked(now = new Date()): Promise<number> {
    const { expired } = await this.locked(async (tx, session) => {
      const expired = await tx.expired(this.options.parkTimeoutMs, 500);
      if (expired.length === 0) return { expired, work: emptyWork() };
      const work = emptyWork();
      for (const p of expired) work.records.push(expiredDeadLetter(this.options.app, p, this.options.parkTimeoutMs, now));
      await tx.deleteParked(expired.map((p) => p.id));
      await this.write(tx, session, work, expired);
      return { expired, work };
    });
    if (expired.length > 0) {
      this.options.metrics?.parkedExpired.inc(expired.length);
      this.options.log.warn({ count: expired.length, commands: expired.map((p) => p.commandId) }, 'parked commands waited too long and were dead-lettered');
    }
    return expired.length;
  }

  private async locked<T extends object>(work: (tx: KeymapTransaction, session: KeymapSession) => Promise<T>): Promise<T> {
    let session: KeymapSession | undefined;
    let result: T;
    try {
      result = await this.repository.withWritebackLock(async (tx) => {
        session = new KeymapSession(tx, this.cache, this.options.metrics);
        return work(tx, session);
      });
    } catch (err) {
      throw keymapFailure('key map transaction failed', err);
    }
    for (const [id, state] of session?.knownStates() ?? []) this.cache.set(id, state);
    return result;
  }

  /** Stores and releases what the batch decided, then sends everything before the transaction commits. */
  private async write(tx: KeymapTransaction, session: KeymapSession, work: Work, recheck: readonly RowKey[] = [], fence: Fence = unfenced): Promise<void> {
    await storeAndRelease(tx, session, work, this.index, recheck, this.options.metrics);
    // Checked last before sending (and before the transaction commits): a replica that lost the partition sends and stores nothing.
    await fence();
    try {
      await this.send(work.records);
    } catch (err) {
      throw new EnvironmentError(`producing ${work.records.length} records failed: ${errorMessage(err)}`, { cause: err });
    }
  }

  private count(work: Work, direction: 'writeback' | 'links'): void {
    const m = this.options.metrics;
    if (!m) return;
    m.translations.inc(streamLabels(direction), work.records.length);
    m.released.inc(work.released.length);
    m.skipped.inc(work.skipped);
  }
}
