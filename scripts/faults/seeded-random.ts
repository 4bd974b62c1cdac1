/**
 * A small seeded pseudo-random generator (mulberry32), so a fault run can be repeated: the same
 * seed gives the same fault schedule and the same sequence of workload choices. Not for crypto.
 */
export class SeededRandom {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Picks a key by weight (weights need not sum to 1; zero-weight keys are never picked). */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = (Object.entries(weights) as Array<[K, number]>).filter(([, w]) => w > 0);
    if (entries.length === 0) throw new Error('weighted pick with no positive weight');
    const total = entries.reduce((a, [, w]) => a + w, 0);
    let x = this.next() * total;
    for (const [k, w] of entries) {
      x -= w;
      if (x < 0) return k;
    }
    return entries[entries.length - 1]![0];
  }

  /** Fisher-Yates, in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }

  /** An independent stream for one purpose, derived from the seed and a label. */
  fork(label: string): SeededRandom {
    let h = (this.seed ^ 0x9e3779b9) >>> 0;
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
    return new SeededRandom(h);
  }

  /** A version-4-shaped UUID from this stream (reproducible ids for the new side's aggregates and events). */
  uuid(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.next() * 16).toString(16));
    hex[12] = '4';
    hex[16] = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
    const s = hex.join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }
}

/** The seed from FAULTS_SEED (decimal), or a fresh one. */
export function parseSeed(text: string | undefined, fresh: () => number = () => Math.floor(Math.random() * 2 ** 31)): number {
  if (text === undefined || text.trim() === '') return fresh();
  if (!/^\d{1,10}$/.test(text.trim()) || Number(text) > 0xffffffff) throw new Error(`FAULTS_SEED: must be an integer between 0 and 4294967295, got "${text}"`);
  return Number(text);
}
