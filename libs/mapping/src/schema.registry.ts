import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/** Compiled JSON Schemas of event payloads, by event type key (see eventTypeKey). */
export class SchemaRegistry {
  private readonly ajv: Ajv;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor() {
    // strict: an unknown keyword in a schema is a config error, not silently ignored.
    this.ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
    addFormats(this.ajv);
  }

  /** Compiles `schema` for `key`; throws an Error saying why it is not a usable JSON Schema. */
  add(key: string, schema: Readonly<Record<string, unknown>>): void {
    this.validators.set(key, this.ajv.compile(schema));
  }

  has(key: string): boolean {
    return this.validators.has(key);
  }

  /** Why `data` does not match the schema of `key` (undefined when it does, or when no schema is declared). */
  problem(key: string, data: unknown): string | undefined {
    const validate = this.validators.get(key);
    if (validate === undefined || validate(data)) return undefined;
    return describeErrors(validate.errors ?? []);
  }
}

function describeErrors(errors: readonly ErrorObject[]): string {
  return errors
    .slice(0, 5)
    .map((e) => `${e.instancePath === '' ? '(data)' : e.instancePath} ${e.message ?? 'is invalid'}${e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: unknown }).additionalProperty)})` : ''}`)
    .join('; ');
}
