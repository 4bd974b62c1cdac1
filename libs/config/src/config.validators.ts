import { Type } from 'class-transformer';
import { IsDefined, registerDecorator, ValidateNested } from 'class-validator';
import { describeValue, IDENTIFIER_PATTERN, identifierProblem, SYSTEM_NAME_PATTERN, SYSTEM_NAME_RULE } from './identifier';
import { SECRET_REF_SHAPE, secretRefProblem } from './secret';

// Every check states its own message from the offending value, so users never see class-validator's
// generic "x must be a string conforming to the specified constraints".

// Each check also states the JSON Schema of what it accepts, recorded per class and property: the
// published schema (schemas/pipeline.schema.json) is generated from these same decorators, so the
// validator and the schema cannot disagree on a field's type, range, pattern or presence.

type Problem = (value: unknown) => string | undefined;

/** A class of pipeline.schema.ts (instantiated without arguments by class-transformer). */
export type SchemaClass = new () => object;

/** A JSON Schema fragment (draft 2020-12). */
export type JsonSchema = { readonly [keyword: string]: unknown };

/** What the decorators of one property say about it, for the JSON Schema generator. */
export interface PropertySchema {
  fragments: JsonSchema[];
  /** `@Nested(() => Class)`: a mapping (or each list element) is validated as that class. */
  nested?: () => SchemaClass;
  /** `@MapOf(() => Class)`: a mapping of user-chosen names to that class. */
  mapOf?: { type: () => SchemaClass; names: JsonSchema };
  required?: boolean;
}

/** Property schemas by class, in declaration order. */
export const PROPERTY_SCHEMAS = new Map<SchemaClass, Map<string, PropertySchema>>();

function propertySchema(target: object, propertyName: string | symbol): PropertySchema {
  const cls = target.constructor as SchemaClass;
  const properties = PROPERTY_SCHEMAS.get(cls) ?? new Map<string, PropertySchema>();
  PROPERTY_SCHEMAS.set(cls, properties);
  const name = String(propertyName);
  const existing = properties.get(name) ?? { fragments: [] };
  properties.set(name, existing);
  return existing;
}

/** Element checks of list constraints, by constraint name: used to report `list[i]` paths. */
export const LIST_ELEMENT_CHECKS = new Map<string, Problem>();

function check(name: string, problem: Problem, schema: JsonSchema): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    propertySchema(target, propertyName).fragments.push(schema);
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate: (value: unknown) => problem(value) === undefined,
        defaultMessage: (args) => problem(args?.value) ?? 'is invalid',
      },
    });
  };
}

export const Required = (): PropertyDecorator => (target: object, propertyName: string | symbol) => {
  propertySchema(target, propertyName).required = true;
  IsDefined({ message: 'is required' })(target, propertyName);
};

/** The value (a mapping, or each element of a list) is validated as an instance of `type`. */
export const Nested = (type: () => SchemaClass): PropertyDecorator => (target: object, propertyName: string | symbol) => {
  propertySchema(target, propertyName).nested = type;
  ValidateNested()(target, propertyName);
  Type(type)(target, propertyName);
};

/**
 * Schema only: a mapping whose keys are names chosen by the user (`names`) and whose values are
 * `type`. The loader validates such entries one by one (class-validator does not descend into them).
 */
export const MapOf = (type: () => SchemaClass, names: JsonSchema): PropertyDecorator => (target: object, propertyName: string | symbol) => {
  propertySchema(target, propertyName).mapOf = { type, names };
};

/** Schema only: what a field left free-form here looks like (owned and validated by another module). */
export const SchemaOf = (schema: JsonSchema): PropertyDecorator => (target: object, propertyName: string | symbol) => {
  propertySchema(target, propertyName).fragments.push(schema);
};

const NON_EMPTY_STRING: JsonSchema = { type: 'string', minLength: 1 };
const IDENTIFIER: JsonSchema = { type: 'string', pattern: IDENTIFIER_PATTERN.source, maxLength: 128 };
const HOST_PORT: JsonSchema = { type: 'string', pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):(\\d{1,5})$' };
/** `{ env: NAME }` or `{ file: /path }` (see secret.ts). */
export const SECRET_REF_SCHEMA: JsonSchema = {
  oneOf: [
    { type: 'object', properties: { env: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' } }, required: ['env'], additionalProperties: false },
    { type: 'object', properties: { file: { type: 'string', pattern: '\\S' } }, required: ['file'], additionalProperties: false },
  ],
};
const SECRET_REF: JsonSchema = { $ref: '#/$defs/SecretRef' };

export const IsMapping = (): PropertyDecorator =>
  check('isMapping', (value) => (isRecord(value) ? undefined : `must be a mapping, not ${describeValue(value)}`), { type: 'object' });

export const IsList = (options: { nonEmpty: boolean }): PropertyDecorator =>
  check('isList', (value) => {
    if (!Array.isArray(value)) return `must be a list, not ${describeValue(value)}`;
    return options.nonEmpty && value.length === 0 ? 'must not be empty' : undefined;
  }, { type: 'array', ...(options.nonEmpty && { minItems: 1 }) });

export const IsNonEmptyString = (): PropertyDecorator =>
  check('isNonEmptyString', (value) =>
    typeof value === 'string' && value.trim() !== '' ? undefined : `must be a non-empty string, not ${describeValue(value)}`,
    { type: 'string', pattern: '\\S' },
  );

export const IsBool = (): PropertyDecorator =>
  check('isBool', (value) => (typeof value === 'boolean' ? undefined : `must be true or false, not ${describeValue(value)}`), { type: 'boolean' });

export const IsIntegerIn = (min: number, max: number): PropertyDecorator =>
  check('isIntegerIn', (value) =>
    typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
      ? undefined
      : `must be an integer from ${min} to ${max}, not ${describeValue(value)}`,
    { type: 'integer', minimum: min, maximum: max },
  );

export const IsOneOf = (values: readonly string[]): PropertyDecorator =>
  check('isOneOf', (value) =>
    typeof value === 'string' && values.includes(value)
      ? undefined
      : `must be one of ${values.join(', ')}, not ${describeValue(value)}`,
    { type: 'string', enum: [...values] },
  );

export const IsEqualTo = (expected: number, why: string): PropertyDecorator =>
  check('isEqualTo', (value) => (value === expected ? undefined : `must be ${expected} (${why})`), { const: expected, description: why });

export const IsIdentifier = (): PropertyDecorator => check('isIdentifier', (value) => identifierProblem(value), IDENTIFIER);

/** A consumer-group name prefix: Kafka's name characters, so the defaults (`id-translation`) can be written too. */
const GROUP_PREFIX_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
export const IsGroupPrefix = (): PropertyDecorator =>
  check('isGroupPrefix', (value) =>
    typeof value === 'string' && GROUP_PREFIX_PATTERN.test(value)
      ? undefined
      : `must be a consumer-group prefix (letters, digits, ".", "_", "-", starting with a letter or digit, at most 200 characters), not ${describeValue(value)}`,
    { type: 'string', pattern: GROUP_PREFIX_PATTERN.source },
  );

export const IsSystemName = (): PropertyDecorator => check('isSystemName', systemNameProblem, { type: 'string', pattern: SYSTEM_NAME_PATTERN.source });

export const IsSecretRef = (): PropertyDecorator => check('isSecretRef', secretRefProblem, SECRET_REF);

export const IsStringOrSecretRef = (): PropertyDecorator =>
  check('isStringOrSecretRef', (value) => {
    if (typeof value === 'string' && value !== '') return undefined;
    return isRecord(value)
      ? secretRefProblem(value)
      : `must be a non-empty string or a secret reference (${SECRET_REF_SHAPE}), not ${describeValue(value)}`;
  }, { anyOf: [NON_EMPTY_STRING, SECRET_REF] });

export const IsScalarCode = (): PropertyDecorator =>
  check('isScalarCode', (value) =>
    (typeof value === 'string' && value !== '') || Number.isInteger(value)
      ? undefined
      : `must be a non-empty string or an integer, not ${describeValue(value)}`,
    { anyOf: [NON_EMPTY_STRING, { type: 'integer' }] },
  );

/** A list whose elements are each checked by `element`; problems are reported per index. */
function listOf(name: string, element: Problem, elementSchema: JsonSchema): PropertyDecorator {
  LIST_ELEMENT_CHECKS.set(name, element);
  return check(name, (value) => {
    if (!Array.isArray(value)) return `must be a list, not ${describeValue(value)}`;
    if (value.length === 0) return 'must not be empty';
    return value.map(element).find((problem) => problem !== undefined);
  }, { type: 'array', minItems: 1, items: elementSchema });
}

export const IsIdentifierList = (): PropertyDecorator => listOf('isIdentifierList', (value) => identifierProblem(value), IDENTIFIER);

export const IsBrokerList = (): PropertyDecorator => listOf('isBrokerList', hostPortProblem, HOST_PORT);

/** An integer written as decimal digits (environment variables are text). */
/** A number of seconds as text (`5`, `1.5`) from `min` to `max`. */
export const IsSecondsText = (min: number, max: number): PropertyDecorator =>
  check('isSecondsText', (value) =>
    typeof value === 'string' && /^\d{1,6}(\.\d{1,3})?$/.test(value.trim()) && Number(value) >= min && Number(value) <= max
      ? undefined
      : `use a number of seconds from ${min} to ${max}, not ${describeValue(value)}`,
    { type: 'string', pattern: '^\\d{1,6}(\\.\\d{1,3})?$' },
  );

export const IsIntegerText = (min: number, max: number): PropertyDecorator =>
  check('isIntegerText', (value) =>
    typeof value === 'string' && /^\d{1,15}$/.test(value) && Number(value) >= min && Number(value) <= max
      ? undefined
      : `must be an integer from ${min} to ${max}, not ${describeValue(value)}`,
    { type: 'string', pattern: '^\\d{1,15}$' },
  );

export const IsBrokerListText = (): PropertyDecorator =>
  check('isBrokerListText', (value) => {
    if (typeof value !== 'string') return `must be a comma-separated list of host:port, not ${describeValue(value)}`;
    const problems = splitList(value).map(hostPortProblem).filter((problem) => problem !== undefined);
    if (problems.length > 0) return `must be a comma-separated list of host:port: ${problems.join('; ')}`;
    return splitList(value).length === 0 ? 'must name at least one broker' : undefined;
  }, { type: 'string' });

/** `name=http://host:port, ...`: the apps whose /metrics the console reads, each named once. */
export const IsMetricsSourceListText = (): PropertyDecorator =>
  check('isMetricsSourceListText', (value) => {
    if (typeof value !== 'string') return `must be a comma-separated list of app=http://host:port, not ${describeValue(value)}`;
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const item of splitList(value)) {
      const at = item.indexOf('=');
      const name = at > 0 ? item.slice(0, at).trim() : '';
      const url = at > 0 ? item.slice(at + 1).trim() : '';
      if (!/^[a-z][a-z0-9-]*$/.test(name)) problems.push(`"${item}": start with the app name (app=http://host:port)`);
      else if (!URL.canParse(url) || !['http:', 'https:'].includes(new URL(url).protocol)) problems.push(`"${item}": ${JSON.stringify(url)} is not an http(s) URL`);
      else if (seen.has(name)) problems.push(`"${name}" is named twice`);
      seen.add(name);
    }
    if (problems.length > 0) return `must be a comma-separated list of app=http://host:port: ${problems.join('; ')}`;
    return seen.size === 0 ? 'must name at least one app' : undefined;
  }, { type: 'string' });

/** `module=level, ...` with known modules and levels, each module once. */
export const IsModuleLevelsText = (modules: readonly string[], levels: readonly string[]): PropertyDecorator =>
  check('isModuleLevelsText', (value) => {
    const shape = `a comma-separated list of module=level (modules: ${modules.join(', ')}; levels: ${levels.join(', ')})`;
    if (typeof value !== 'string') return `must be ${shape}, not ${describeValue(value)}`;
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const item of splitList(value)) {
      const [name = '', level = '', ...extra] = item.split('=').map((part) => part.trim());
      if (extra.length > 0 || !modules.includes(name) || !levels.includes(level)) problems.push(`"${item}"`);
      else if (seen.has(name)) problems.push(`"${name}" is named twice`);
      seen.add(name);
    }
    if (problems.length > 0) return `must be ${shape}: ${problems.join('; ')}`;
    return seen.size === 0 ? `must be ${shape}` : undefined;
  }, { type: 'string' });

// Messages of sensitive settings never quote the value.
export const IsPostgresUrl = (): PropertyDecorator =>
  check('isPostgresUrl', (value) => {
    const invalid = 'must be a postgres:// or postgresql:// URL with a host (value not shown: sensitive)';
    if (typeof value !== 'string' || !URL.canParse(value)) return invalid;
    const url = new URL(value);
    return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '' ? undefined : invalid;
  }, { type: 'string' });

export const IsNotBlank = (): PropertyDecorator =>
  check('isNotBlank', (value) => (typeof value === 'string' && value.trim() !== '' ? undefined : 'must not be blank'), { type: 'string', pattern: '\\S' });

export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export function systemNameProblem(value: unknown): string | undefined {
  return typeof value === 'string' && SYSTEM_NAME_PATTERN.test(value)
    ? undefined
    : `${typeof value === 'string' ? JSON.stringify(value) : describeValue(value)} is not a valid system name (${SYSTEM_NAME_RULE})`;
}

/** Why `value` is not `host:port` (IPv6 hosts in brackets), or undefined if it is. */
export function hostPortProblem(value: unknown): string | undefined {
  const invalid = `must be host:port, not ${describeValue(value)}`;
  if (typeof value !== 'string') return invalid;
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  if (match === null) return invalid;
  const port = Number(match[2]);
  return port >= 1 && port <= 65535 ? undefined : `port in ${JSON.stringify(value)} must be from 1 to 65535`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
