import { getMetadataStorage, type ValidationError } from 'class-validator';
import { LIST_ELEMENT_CHECKS } from './config.validators';
import type { PathSegments } from './validation-error';

/** A problem located by path segments, before it is rendered and placed in the source file. */
export interface LocatedIssue {
  readonly at: PathSegments;
  readonly message: string;
}

// class-validator's own constraints, which carry its generic English messages.
const IS_DEFINED = 'isDefined';
const WHITELIST = 'whitelistValidation';
const NESTED = 'nestedValidation';
const UNKNOWN_VALUE = 'unknownValue';

/** Flattens class-validator errors into one issue per failing property, list element or unknown key. */
export function issuesFromValidationErrors(errors: readonly ValidationError[], parent: PathSegments): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  for (const error of errors) {
    const at = [...parent, segmentOf(error)];
    const constraint = pickConstraint(error.constraints ?? {});
    if (constraint !== undefined) {
      issues.push(...issuesForConstraint(error, constraint, at));
      // A value of the wrong kind also yields nested errors (a list walked as if it were a
      // mapping): the kind is the actual problem, the rest is noise.
      continue;
    }
    issues.push(...issuesFromValidationErrors(error.children ?? [], at));
  }
  return issues;
}

function segmentOf(error: ValidationError): string | number {
  // class-validator names array elements "0", "1", ... with the array as their target.
  return Array.isArray(error.target) && /^\d+$/.test(error.property) ? Number(error.property) : error.property;
}

// One message per property: missing beats unknown beats our own checks beats class-validator's
// generic "nested property must be either object or array".
function pickConstraint(constraints: Record<string, string>): [string, string] | undefined {
  const entries = Object.entries(constraints);
  const rank = ([name]: [string, string]): number =>
    name === IS_DEFINED ? 0 : name === WHITELIST ? 1 : name === NESTED || name === UNKNOWN_VALUE ? 3 : 2;
  return entries.sort((a, b) => rank(a) - rank(b))[0];
}

function issuesForConstraint(error: ValidationError, [name, message]: [string, string], at: PathSegments): LocatedIssue[] {
  switch (name) {
    case WHITELIST:
      return [{ at, message: unknownFieldMessage(error) }];
    case NESTED:
    case UNKNOWN_VALUE:
      return [{ at, message: 'must be a mapping' }];
    default: {
      const element = LIST_ELEMENT_CHECKS.get(name);
      if (element !== undefined && Array.isArray(error.value) && error.value.length > 0) {
        return error.value.flatMap((value: unknown, index: number) => {
          const problem = element(value);
          return problem === undefined ? [] : [{ at: [...at, index], message: problem }];
        });
      }
      return [{ at, message }];
    }
  }
}

function unknownFieldMessage(error: ValidationError): string {
  const target: unknown = error.target;
  const known =
    typeof target === 'object' && target !== null
      ? [
          ...new Set(
            getMetadataStorage()
              .getTargetValidationMetadatas(target.constructor, '', true, false)
              .map((metadata) => metadata.propertyName),
          ),
        ]
      : [];
  const suggestion = closest(error.property, known);
  const hint = suggestion === undefined ? `known fields: ${known.join(', ')}` : `did you mean ${suggestion}?`;
  return `is not a known field (${hint})`;
}

/** The known name within edit distance 2 of `name`, to point out typos. */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance <= 2 && (best === undefined || distance < best.distance)) {
      best = { name: candidate, distance };
    }
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length];
}
