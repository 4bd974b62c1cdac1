import type { KeyedChangeEvent, Row } from '@sync/contracts';
import type { TableTarget } from './mapping.types';

/** What a custom forward mapper sees: the keyed change and where it came from. */
export interface ForwardMapperInput {
  readonly change: KeyedChangeEvent;
  readonly mapping: string;
  readonly origin: string;
  readonly eventId: string;
}

/** An event a custom mapper wants emitted; its type must be declared in the mapping's events. */
export interface DomainEventDraft {
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** What a custom reverse mapper sees: the validated domain event. */
export interface ReverseMapperInput {
  readonly type: string;
  readonly subject: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly id: string;
  readonly source: string;
  readonly origin: string;
}

/** A write-back a custom reverse mapper wants sent; the target must be a declared table. */
export interface WritebackDraft {
  readonly target: TableTarget;
  readonly op: 'upsert' | 'delete';
  readonly globalId: string;
  readonly columns: Row;
  readonly references?: Readonly<Record<string, string | null>>;
}

/**
 * The code escape hatch for what config cannot say: a class registered by name and referenced in
 * the pipeline file as `mapper: <name>`. It must be deterministic (same input, same output):
 * outputs get ids derived from the input, and redelivery must reproduce them.
 */
export interface CustomMapper {
  forward?(input: ForwardMapperInput): readonly DomainEventDraft[] | Promise<readonly DomainEventDraft[]>;
  reverse?(input: ReverseMapperInput): readonly WritebackDraft[] | Promise<readonly WritebackDraft[]>;
}

/** Custom mappers by name; the app registers its own before the mappings are loaded. */
export class MapperRegistry {
  private readonly mappers = new Map<string, CustomMapper>();

  register(name: string, mapper: CustomMapper): this {
    if (this.mappers.has(name)) throw new Error(`mapper "${name}" is already registered`);
    this.mappers.set(name, mapper);
    return this;
  }

  get(name: string): CustomMapper | undefined {
    return this.mappers.get(name);
  }

  names(): string[] {
    return [...this.mappers.keys()];
  }
}
