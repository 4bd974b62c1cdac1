import { IsDefined, registerDecorator } from 'class-validator';
import { describeValue, identifierProblem, SYSTEM_NAME_PATTERN, SYSTEM_NAME_RULE } from './identifier';
import { SECRET_REF_SHAPE, secretRefProblem } from './secret';

// Every check states its own message from the offending value, so users never see class-validator's
// generic "x must be a string conforming to the specified constraints".

type Problem = (value: unknown) => string | undefined;

/** Element checks of list constraints, by constraint name: used to report `list[i]` paths. */
export const LIST_ELEMENT_CHECKS = new Map<string, Problem>();

function check(name: string, problem: Problem): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
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

export const Required = (): PropertyDecorator => IsDefined({ message: 'is required' });

export const IsMapping = (): PropertyDecorator =>
  check('isMapping', (value) => (isRecord(value) ? undefined : `must be a mapping, not ${describeValue(value)}`));

export const IsList = (options: { nonEmpty: boolean }): PropertyDecorator =>
  check('isList', (value) => {
    if (!Array.isArray(value)) return `must be a list, not ${describeValue(value)}`;
    return options.nonEmpty && value.length === 0 ? 'must not be empty' : undefined;
  });

export const IsNonEmptyString = (): PropertyDecorator =>
  check('isNonEmptyString', (value) =>
    typeof value === 'string' && value.trim() !== '' ? undefined : `must be a non-empty string, not ${describeValue(value)}`,
  );

export const IsBool = (): PropertyDecorator =>
  check('isBool', (value) => (typeof value === 'boolean' ? undefined : `must be true or false, not ${describeValue(value)}`));

export const IsIntegerIn = (min: number, max: number): PropertyDecorator =>
  check('isIntegerIn', (value) =>
    typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
      ? undefined
      : `must be an integer from ${min} to ${max}, not ${describeValue(value)}`,
  );

export const IsOneOf = (values: readonly string[]): PropertyDecorator =>
  check('isOneOf', (value) =>
    typeof value === 'string' && values.includes(value)
      ? undefined
      : `must be one of ${values.join(', ')}, not ${describeValue(value)}`,
  );

export const IsEqualTo = (expected: number, why: string): PropertyDecorator =>
  check('isEqualTo', (value) => (value === expected ? undefined : `must be ${expected} (${why})`));

export const IsIdentifier = (): PropertyDecorator => check('isIdentifier', (value) => identifierProblem(value));

export const IsSystemName = (): PropertyDecorator => check('isSystemName', systemNameProblem);

export const IsSecretRef = (): PropertyDecorator => check('isSecretRef', secretRefProblem);

export const IsStringOrSecretRef = (): PropertyDecorator =>
  check('isStringOrSecretRef', (value) => {
    if (typeof value === 'string' && value !== '') return undefined;
    return isRecord(value)
      ? secretRefProblem(value)
      : `must be a non-empty string or a secret reference (${SECRET_REF_SHAPE}), not ${describeValue(value)}`;
  });

export const IsScalarCode = (): PropertyDecorator =>
  check('isScalarCode', (value) =>
    (typeof value === 'string' && value !== '') || Number.isInteger(value)
      ? undefined
      : `must be a non-empty string or an integer, not ${describeValue(value)}`,
  );

/** A list whose elements are each checked by `element`; problems are reported per index. */
function listOf(name: string, element: Problem): PropertyDecorator {
  LIST_ELEMENT_CHECKS.set(name, element);
  return check(name, (value) => {
    if (!Array.isArray(value)) return `must be a list, not ${describeValue(value)}`;
    if (value.length === 0) return 'must not be empty';
    return value.map(element).find((problem) => problem !== undefined);
  });
}

export const IsIdentifierList = (): PropertyDecorator => listOf('isIdentifierList', (value) => identifierProblem(value));

export const IsBrokerList = (): PropertyDecorator => listOf('isBrokerList', hostPortProblem);

/** An integer written as decimal digits (environment variables are text). */
export const IsIntegerText = (min: number, max: number): PropertyDecorator =>
  check('isIntegerText', (value) =>
    typeof value === 'string' && /^\d{1,15}$/.test(value) && Number(value) >= min && Number(value) <= max
      ? undefined
      : `must be an integer from ${min} to ${max}, not ${describeValue(value)}`,
  );

export const IsBrokerListText = (): PropertyDecorator =>
  check('isBrokerListText', (value) => {
    if (typeof value !== 'string') return `must be a comma-separated list of host:port, not ${describeValue(value)}`;
    const problems = splitList(value).map(hostPortProblem).filter((problem) => problem !== undefined);
    if (problems.length > 0) return `must be a comma-separated list of host:port: ${problems.join('; ')}`;
    return splitList(value).length === 0 ? 'must name at least one broker' : undefined;
  });

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
  });

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
  });

// Messages of sensitive settings never quote the value.
export const IsPostgresUrl = (): PropertyDecorator =>
  check('isPostgresUrl', (value) => {
    const invalid = 'must be a postgres:// or postgresql:// URL with a host (value not shown: sensitive)';
    if (typeof value !== 'string' || !URL.canParse(value)) return invalid;
    const url = new URL(value);
    return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '' ? undefined : invalid;
  });

export const IsNotBlank = (): PropertyDecorator =>
  check('isNotBlank', (value) => (typeof value === 'string' && value.trim() !== '' ? undefined : 'must not be blank'));

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
