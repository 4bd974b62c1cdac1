import { randomUUID } from 'node:crypto';
import type { TableConfig } from '@sync/config';
import { isRepublishOrigin, type CaptureBatch, type CaptureSource, type CapturedChange, type ReplicationLag } from '@sync/legacy-db';
import { backoffDelay, recordBytes, type OutboundRecord } from '@sync/kafka';
import { DataError, errorKind, errorMessage } from '@sync/errors';
import type { Row } from '@sync/contracts';
import type { SyncState } from '@sync/control';
import type { AppLogger } from '@sync/observability';
import { keyOf } from './change-record.builder';
import { NativeRecordEncoder, type TechnicalRecordEncoder } from './technical-record.encoder';
import type { CaptureMetrics } from './capture.metrics';
import { entityName, snapshotRate, type CaptureState, type SnapshotProgress } from './capture-state';
import { importDeadLetter, type RejectedImport } from './import-dead-letter.builder';
import { isLeaseLost, type LeaseLostError } from './import-leases';
import { publishInSlices, ReadAhead } from './snapshot-pipeline';

export interface CapturePorts {
  publish(records: readonly OutboundRecord[]): Promise<void>;
  saveState(entity: string, state: CaptureState): Promise<void>;
  /** The unit was taken over by another replica: the runner has stopped for good, nothing more is published. */
  leaseLost?(err: LeaseLostError): void;
}

export interface CaptureLimits {
  /** Largest encoded record produced; a larger change is dead-lettered by reference. */
  readonly maxMessageBytes: number;
}

/** A record to publish, with what a dead letter needs should it be refused. */
interface Candidate {
  readonly record: OutboundRecord;
  readonly changeId: string;
  readonly key: Row;
  readonly txId: string | null;
}

const LAG_PROBE_EVERY_MS = 1_000;

const SCHEMA_CHECK_EVERY_MS = 5_000;
const SAVE_IDLE_POSITION_EVERY_MS = 10_000;
const PURGE_EVERY_MS = 60_000;
const PURGE_BATCH = 5_000;
const SLOT_PROBE_EVERY_MS = 5_000;
const SLOT_WARN_EVERY_MS = 60_000;

/**
 * Why a replication slot's lag needs an operator, or undefined: WAL it keeps is past half of what
 * max_slot_wal_keep_size allows (safe_wal_size below the retained size), or the server already
 * marked it unreserved / lost.
 */
export function slotWarning(lag: ReplicationLag): string | undefined {
  if (lag.walStatus === 'lost') return 'replication slot lost its WAL: the entities re-snapshot';
  if (lag.walStatus === 'unreserved') return 'replication slot is past max_slot_wal_keep_size: it will be invalidated at the next checkpoint';
  if (lag.safeBytes !== null && lag.safeBytes < lag.retainedBytes) return 'replication slot retains over half of max_slot_wal_keep_size: capture is falling behind or an entity is paused';
  return undefined;
}
/** Snapshot rows encoded and handed to the producer at a time; two such slices are in flight. */
const SNAPSHOT_SLICE_ROWS = 2_000;
const SNAPSHOT_SLICES_IN_FLIGHT = 2;

/**
 * Captures one table: snapshot (resumable, keyset chunks) then streaming, publishing each batch
 * and only then saving the position, so a crash repeats a batch (same event ids) but never skips one.
 * Polls again at once while batches come back full, else waits for the interval or a wake-up.
 */
export class TableCaptureRunner {
  readonly entity: string;
  private state: CaptureState | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private failingSince: number | undefined;
  private lastError: string | undefined;
  private stoppedBecause: string | undefined;
  private lastSchemaCheck = 0;
  private lastGapCheck = 0;
  private lastSaved = 0;
  private lastPurge = 0;
  private lastLagProbe = 0;
  private lastSlotProbe = 0;
  private lastSlotWarning = 0;
  private resnapshotRequested = false;
  private snapshotProgress: { snapshotId: string; rows: number } | undefined;
  private control: SyncState = 'enabled';
  /** The next batch, read while the current one is being published (only after a full batch). */
  private prefetch: { position: string; batch: Promise<CaptureBatch> } | undefined;
  /** The next snapshot chunk, read while the current one is published (only after a full chunk). */
  private readonly snapshotReads = new ReadAhead<Row[]>();

  constructor(
    readonly table: TableConfig,
    private readonly source: CaptureSource,
    private readonly ports: CapturePorts,
    private readonly metrics: CaptureMetrics,
    private readonly log: AppLogger,
    saved: CaptureState | undefined,
    private readonly limits: CaptureLimits,
    /** How the technical topic is written (technicalTopics.format); the native envelope by default. */
    private readonly encoder: TechnicalRecordEncoder = new NativeRecordEncoder(table),
  ) {
    this.entity = entityName(table);
    this.state = saved;
    // A streaming source says when changes arrived: read them at once rather than at the next poll.
    source.onChanges?.(() => this.wake());
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Finishes the batch in hand (published and position saved), then returns. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    this.source.release?.();
  }

  /** Poll now (a NOTIFY arrived, or a control change). */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /**
   * Obeys the entity's legacy→new switch: paused and disabled stop reading (the position is kept,
   * so resuming delivers everything); enabling a disabled entity re-snapshots it.
   */
  setControl(state: SyncState): void {
    const previous = this.control;
    this.control = state;
    if (previous === 'disabled' && state === 'enabled') this.resnapshotRequested = true;
    this.log.info({ entity: this.entity, from: previous, to: state }, 'sync state changed');
    this.wake();
  }

  /** Re-reads the whole table while keeping the stream position; other tables are not affected. */
  requestResnapshot(): void {
    this.resnapshotRequested = true;
    this.wake();
  }

  currentState(): CaptureState | undefined {
    return this.state;
  }

  controlState(): SyncState {
    return this.control;
  }

  /** Why this entity is unhealthy, if it is: stopped, or failing for longer than its staleness limit. */
  problem(now = Date.now()): string | undefined {
    if (this.stoppedBecause) return this.stoppedBecause;
    if (this.failingSince !== undefined && now - this.failingSince > this.table.staleAfterMs) {
      return `${this.entity}: capture failing for ${Math.round((now - this.failingSince) / 1000)} s: ${this.lastError ?? ''}`;
    }
    return undefined;
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (this.running) {
      if (this.control !== 'enabled') {
        this.prefetch = undefined;
        this.snapshotReads.clear();
        await this.idle(this.table.capture.pollIntervalMs);
        continue;
      }
      try {
        const busy = await this.step();
        attempt = 0;
        this.failingSince = undefined;
        this.lastError = undefined;
        if (!busy) await this.idle(this.stoppedBecause ? SCHEMA_CHECK_EVERY_MS : this.table.capture.pollIntervalMs);
      } catch (err) {
        if (isLeaseLost(err)) {
          // Fenced: another replica owns the unit now. Never retry, never publish again.
          this.running = false;
          this.prefetch = undefined;
          this.log.warn({ entity: this.entity, err: err.message }, 'capture fenced: the unit was taken over');
          this.ports.leaseLost?.(err);
          return;
        }
        attempt++;
        this.failingSince ??= Date.now();
        this.lastError = errorMessage(err);
        this.metrics.errors.inc({ entity: this.entity });
        const delay = backoffDelay(attempt, { initialMs: 250, maxMs: 15_000, jitter: 0.2 });
        this.log.warn({ entity: this.entity, attempt, delayMs: delay, err: this.lastError }, 'capture failed, retrying');
        await this.idle(delay);
      }
    }
  }

  /** One unit of work; true when there is more to do right away. */
  private async step(): Promise<boolean> {
    if (!(await this.schemaOk())) return false;
    if (this.resnapshotRequested) await this.beginResnapshot();
    if (!this.state) {
      const streamFrom = await this.source.startPosition();
      this.state = { phase: 'snapshot', snapshotId: randomUUID(), afterKey: null, streamFrom, progress: await this.snapshotStart() };
      await this.ports.saveState(this.entity, this.state);
      this.log.info({ entity: this.entity }, 'initial snapshot started');
    }
    return this.state.phase === 'snapshot' ? this.snapshotStep(this.state) : this.streamStep(this.state.position);
  }

  private async beginResnapshot(): Promise<void> {
    this.resnapshotRequested = false;
    const streamFrom = this.state?.phase === 'streaming' ? this.state.position : this.state?.streamFrom ?? (await this.source.startPosition());
    this.state = { phase: 'snapshot', snapshotId: randomUUID(), afterKey: null, streamFrom, progress: await this.snapshotStart() };
    await this.ports.saveState(this.entity, this.state);
    this.log.info({ entity: this.entity }, 're-snapshot started');
  }

  /** The table's row count now: the total a snapshot's progress is measured against. */
  private async snapshotStart(): Promise<SnapshotProgress> {
    return { done: 0, total: await this.source.rowCount(), startedAt: new Date().toISOString() };
  }

  private reportSnapshot(progress: SnapshotProgress | undefined, now: number, running: boolean): void {
    if (progress === undefined) return;
    const labels = { entity: this.entity };
    const { rowsPerSecond, etaSeconds } = snapshotRate(progress, now);
    this.metrics.snapshotRowsDone.set(labels, progress.done);
    this.metrics.snapshotTableRows.set(labels, progress.total);
    this.metrics.snapshotRowsPerSecond.set(labels, rowsPerSecond);
    this.metrics.snapshotEtaSeconds.set(labels, running ? (etaSeconds ?? 0) : 0);
  }

  /**
   * One chunk of the snapshot: keyset read (or the one read ahead), then, when the chunk was full,
   * the next chunk's read starts while this one is encoded and published in slices; the position
   * (the chunk's last key) is saved only after every record of the chunk was acknowledged.
   */
  private async snapshotStep(state: Extract<CaptureState, { phase: 'snapshot' }>): Promise<boolean> {
    const size = this.table.capture.snapshotChunkSize;
    const read = (afterKey: Row | null) => () => this.source.snapshotChunk(afterKey, size);
    const rows = await this.snapshotReads.take(chunkToken(state.snapshotId, state.afterKey), read(state.afterKey));
    const done = rows.length < size;
    const lastKey = rows.length > 0 ? keyOf(this.table, rows[rows.length - 1]!) : null;
    if (!done) this.snapshotReads.prefetch(chunkToken(state.snapshotId, lastKey), read(lastKey));
    const now = Date.now();
    if (rows.length > 0) {
      await this.encoder.prepare(rows);
      const slices = await publishInSlices(rows, SNAPSHOT_SLICE_ROWS, SNAPSHOT_SLICES_IN_FLIGHT, (slice) => {
        const candidates: Candidate[] = this.encoder.snapshotRecords(state.snapshotId, slice, now).map((r) => ({ record: r.record, key: r.key, changeId: r.position, txId: null }));
        return this.publishOrDeadLetter(candidates, [], now);
      });
      const published = slices.reduce((n, ids) => n + ids.length, 0);
      this.metrics.rows.inc({ entity: this.entity, op: 'r' }, published);
      // Progress of this snapshot run (a new snapshotId, whatever started it, counts from 0).
      const before = this.snapshotProgress?.snapshotId === state.snapshotId ? this.snapshotProgress.rows : 0;
      this.snapshotProgress = { snapshotId: state.snapshotId, rows: before + published };
      this.metrics.snapshotRows.set({ entity: this.entity }, this.snapshotProgress.rows);
    }
    // A table that grew during the snapshot: the total follows what was read.
    const progress = state.progress && { ...state.progress, done: state.progress.done + rows.length, total: Math.max(state.progress.total, state.progress.done + rows.length) };
    this.reportSnapshot(progress, now, !done);
    this.state = done
      ? { phase: 'streaming', position: state.streamFrom, lastSnapshot: { snapshotId: state.snapshotId, finishedAt: new Date(now).toISOString(), rows: progress?.done ?? this.snapshotProgress?.rows ?? 0 } }
      : { ...state, afterKey: lastKey, ...(progress ? { progress } : {}) };
    await this.ports.saveState(this.entity, this.state);
    this.lastSaved = now;
    if (done) this.log.info({ entity: this.entity }, 'snapshot finished, streaming');
    return true;
  }

  private async streamStep(position: string): Promise<boolean> {
    // A CDC gap check is a query: run it at the schema-check cadence, not on every poll.
    if (Date.now() - this.lastGapCheck >= SCHEMA_CHECK_EVERY_MS) {
      this.lastGapCheck = Date.now();
      const gap = await this.source.positionProblem(position);
      if (gap) return this.onPositionGap(gap);
    }
    const started = process.hrtime.bigint();
    const prefetched = this.prefetch?.position === position ? this.prefetch.batch : undefined;
    this.prefetch = undefined;
    const batch = await (prefetched ?? this.source.readChanges(position, this.table.capture.batchSize));
    this.metrics.pollSeconds.observe({ entity: this.entity }, Number(process.hrtime.bigint() - started) / 1e9);
    if (batch.full) {
      // Read the next batch while this one is published: the database and Kafka work in parallel.
      const next = this.source.readChanges(batch.next, this.table.capture.batchSize);
      next.catch(() => undefined); // a failure surfaces when the next step awaits it
      this.prefetch = { position: batch.next, batch: next };
    }
    const now = Date.now();
    // Rows the suite's own write-back wrote carry its origin marker: publishing them would echo.
    // Except a write-back that won a conflict: the new side must learn that legacy now holds it.
    const fresh = batch.changes.filter((c) => c.origin === null || isRepublishOrigin(c.origin));
    const echoes = batch.changes.length - fresh.length;
    const rejected: RejectedImport[] = (batch.rejected ?? []).map((r) => ({ ...r, table: this.table, rejection: 'poison' }));
    if (fresh.length > 0 || rejected.length > 0) {
      const candidates: Candidate[] = [];
      await this.encoder.prepare(fresh.flatMap((c) => [c.before, c.after]));
      for (const c of fresh) {
        candidates.push(...this.candidates(c, now, rejected));
      }
      const published = new Set(await this.publishOrDeadLetter(candidates, rejected, now));
      for (const c of fresh) if (published.has(c.changeId)) this.metrics.rows.inc({ entity: this.entity, op: c.op });
    }
    if (echoes > 0) this.metrics.echoSkipped.inc({ entity: this.entity }, echoes);
    const last = batch.changes[batch.changes.length - 1];
    if (last) {
      this.metrics.lastChange.set({ entity: this.entity }, Date.parse(last.committedAt) / 1000);
      this.metrics.lagSeconds.set({ entity: this.entity }, Math.max(0, (now - Date.parse(last.committedAt)) / 1000));
    } else {
      await this.probeLag(position, now);
    }
    if (batch.next !== position) {
      const last = this.state?.phase === 'streaming' ? this.state.lastSnapshot : undefined;
      this.state = { phase: 'streaming', position: batch.next, ...(last ? { lastSnapshot: last } : {}) };
      if (batch.changes.length > 0 || now - this.lastSaved > SAVE_IDLE_POSITION_EVERY_MS) {
        await this.ports.saveState(this.entity, this.state);
        this.lastSaved = now;
        // Published and saved: a replication slot may now release what lies before it.
        this.source.acknowledge?.(batch.next);
      }
    }
    await this.housekeeping(batch.next, now);
    return batch.full;
  }

  /**
   * Nothing read: lag is the age of the oldest committed change still waiting (held back behind
   * the watermark by an older open transaction, say), not 0. Probed at most once a second.
   */
  private async probeLag(position: string, now: number): Promise<void> {
    if (!this.source.pendingAgeSeconds) {
      this.metrics.lagSeconds.set({ entity: this.entity }, 0);
      return;
    }
    if (now - this.lastLagProbe < LAG_PROBE_EVERY_MS) return;
    this.lastLagProbe = now;
    this.metrics.lagSeconds.set({ entity: this.entity }, await this.source.pendingAgeSeconds(position));
  }

  /** The records of a change (two for a primary-key update), or none (and a rejection noted) when it cannot be published. */
  private candidates(c: CapturedChange, now: number, rejected: RejectedImport[]): Candidate[] {
    const key = keyOf(this.table, c.after ?? c.before ?? {});
    try {
      // A primary-key update gives several records, each under its own key.
      return this.encoder.changeRecords(c, now).map((r) => ({ record: r.record, changeId: c.changeId, key: r.key, txId: c.txId }));
    } catch (err) {
      if (errorKind(err) !== 'data') throw err;
      rejected.push({ table: this.table, changeId: c.changeId, key, txId: c.txId, rejection: 'poison', error: err });
      return [];
    }
  }

  /**
   * Publishes the candidates that fit; an oversize one, one the broker refuses as a data error,
   * and the rejections go to dlq.legacy-import as references. Returns the ids of the changes
   * published. Any other failure throws before the position moves.
   */
  private async publishOrDeadLetter(candidates: readonly Candidate[], rejected: RejectedImport[], now: number): Promise<string[]> {
    const limit = this.limits.maxMessageBytes;
    const fitting: Candidate[] = [];
    for (const c of candidates) {
      const bytes = recordBytes(c.record);
      if (bytes <= limit) {
        fitting.push(c);
        continue;
      }
      const error = new DataError(`${this.entity}: change ${c.changeId} encodes to ${bytes} bytes, over the ${limit}-byte limit (KAFKA_MAX_MESSAGE_BYTES)`);
      rejected.push({ table: this.table, changeId: c.changeId, key: c.key, txId: c.txId, rejection: 'oversize', error, encodedBytes: bytes, limitBytes: limit });
    }
    let published = fitting;
    try {
      if (fitting.length > 0) await this.ports.publish(fitting.map((c) => c.record));
    } catch (err) {
      if (errorKind(err) !== 'data') throw err;
      // One record was refused (the topic's own limit is below ours ...): find it, send the rest.
      published = [];
      for (const c of fitting) {
        try {
          await this.ports.publish([c.record]);
          published.push(c);
        } catch (one) {
          if (errorKind(one) !== 'data') throw one;
          rejected.push({ table: this.table, changeId: c.changeId, key: c.key, txId: c.txId, rejection: 'oversize', error: one, encodedBytes: recordBytes(c.record), limitBytes: limit });
        }
      }
    }
    if (rejected.length > 0) {
      const at = new Date(now);
      await this.ports.publish(rejected.map((r) => importDeadLetter(r, at)));
      for (const r of rejected) {
        this.metrics.deadLettered.inc({ entity: this.entity, rejection: r.rejection });
        this.log.warn({ entity: this.entity, position: r.changeId, rejection: r.rejection, err: errorMessage(r.error) }, 'change dead-lettered, capture goes on');
      }
    }
    return published.map((c) => c.changeId);
  }

  private async onPositionGap(gap: string): Promise<boolean> {
    // A logical slot that was dropped and re-created, or lost its WAL: the only way back is a snapshot.
    if ((this.table.capture.mode === 'cdc' && this.table.capture.resnapshotOnGap) || this.table.capture.mode === 'logical') {
      this.log.warn({ entity: this.entity, reason: gap }, 'saved position no longer readable, re-snapshotting');
      this.state = { phase: 'snapshot', snapshotId: randomUUID(), afterKey: null, streamFrom: await this.source.startPosition() };
      await this.ports.saveState(this.entity, this.state);
      return true;
    }
    this.stop_(`${this.entity}: ${gap}`);
    return false;
  }

  /** Slot lag (logical decoding) as metrics, and a warning while the slot nears max_slot_wal_keep_size. */
  private async probeSlot(now: number): Promise<void> {
    if (!this.source.replicationLag || now - this.lastSlotProbe < SLOT_PROBE_EVERY_MS) return;
    this.lastSlotProbe = now;
    const lag = await this.source.replicationLag();
    this.metrics.slotLagBytes.set({ slot: lag.slot }, lag.bytes);
    this.metrics.slotLagSeconds.set({ slot: lag.slot }, lag.seconds);
    this.metrics.slotRetainedBytes.set({ slot: lag.slot }, lag.retainedBytes);
    const warning = slotWarning(lag);
    if (warning && now - this.lastSlotWarning >= SLOT_WARN_EVERY_MS) {
      this.lastSlotWarning = now;
      this.log.warn({ entity: this.entity, slot: lag.slot, lagBytes: lag.bytes, retainedBytes: lag.retainedBytes, safeBytes: lag.safeBytes, walStatus: lag.walStatus }, warning);
    }
  }

  private async housekeeping(position: string, now: number): Promise<void> {
    await this.probeSlot(now);
    const retention = this.table.capture.mode === 'trigger' ? this.table.capture.retentionMs : 0;
    // Short retentions are purged more often, but never more than once a second.
    const every = retention > 0 ? Math.min(PURGE_EVERY_MS, Math.max(1_000, retention / 2)) : PURGE_EVERY_MS;
    if (now - this.lastPurge < every) return;
    this.lastPurge = now;
    this.metrics.backlog.set({ entity: this.entity }, await this.source.backlog(position));
    if (this.table.capture.mode !== 'trigger' || this.table.capture.retentionMs <= 0) return;
    let purged = 0;
    for (let round = 0; round < 20; round++) {
      const n = await this.source.purge(position, this.table.capture.retentionMs, PURGE_BATCH);
      purged += n;
      if (n < PURGE_BATCH) break;
    }
    if (purged > 0) this.metrics.purged.inc({ entity: this.entity }, purged);
  }

  /** Checks the table still has every configured column; a missing one stops only this entity. */
  private async schemaOk(): Promise<boolean> {
    const now = Date.now();
    if (now - this.lastSchemaCheck < SCHEMA_CHECK_EVERY_MS) return this.stoppedBecause === undefined;
    this.lastSchemaCheck = now;
    const problem = await this.source.checkSchema();
    if (problem) {
      this.stop_(problem.message);
      return false;
    }
    if (this.stoppedBecause) this.log.info({ entity: this.entity }, 'schema problem resolved, capture resumes');
    this.stoppedBecause = undefined;
    this.metrics.stopped.set({ entity: this.entity }, 0);
    return true;
  }

  private stop_(reason: string): void {
    if (this.stoppedBecause !== reason) this.log.error({ entity: this.entity, reason }, 'entity stopped');
    this.stoppedBecause = reason;
    this.metrics.stopped.set({ entity: this.entity }, 1);
  }

  private idle(ms: number): Promise<void> {
    if (!this.running || this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }
}

/** Which chunk a read is: the snapshot run and the key it starts after. */
function chunkToken(snapshotId: string, afterKey: Row | null): string {
  return `${snapshotId}:${JSON.stringify(afterKey)}`;
}
