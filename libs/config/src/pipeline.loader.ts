import { readFileSync } from 'node:fs';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidatorOptions } from 'class-validator';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type YAMLError } from 'yaml';
import { isRecord, systemNameProblem } from './config.validators';
import { describeValue } from './identifier';
import { normalizePipeline } from './pipeline.normalize';
import { checkPipelineRules } from './pipeline.rules';
import { PipelineSchema, SystemSchema } from './pipeline.schema';
import type { PipelineConfig } from './pipeline.types';
import { ConfigValidationError, formatPath, type ConfigIssue, type PathSegments } from './validation-error';
import { issuesFromValidationErrors, type LocatedIssue } from './validation-issues';

const VALIDATOR_OPTIONS: ValidatorOptions = {
  whitelist: true,
  // Unknown fields are errors, not silently dropped: they are usually typos of optional fields.
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
};

/** Reads, parses and validates a pipeline file. Throws ConfigValidationError listing every problem. */
export function loadPipelineFile(path: string): PipelineConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error: unknown) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'read failed';
    throw new ConfigValidationError(`Cannot read pipeline file ${path}`, [
      { path: '', message: `cannot read ${path} (${code})` },
    ]);
  }
  return parsePipeline(text, path);
}

/**
 * Parses and validates pipeline YAML. `sourceName` (usually the file path) appears in error
 * messages with line and column. Throws ConfigValidationError listing every problem.
 */
export function parsePipeline(text: string, sourceName: string): PipelineConfig {
  const title = `Invalid pipeline file ${sourceName}`;
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigValidationError(title, document.errors.map(syntaxIssue), sourceName);
  }
  let raw: unknown;
  try {
    raw = document.toJS({ maxAliasCount: 100 });
  } catch (error: unknown) {
    // e.g. alias expansion beyond maxAliasCount ("billion laughs")
    const message = error instanceof Error ? error.message : String(error);
    throw new ConfigValidationError(title, [{ path: '(root)', message }], sourceName);
  }

  const { issues, pipeline, systems } = validatePipeline(raw);
  if (issues.length > 0 || pipeline === undefined) {
    const located = issues.map((issue) => withPosition(issue, document, lineCounter));
    located.sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER));
    throw new ConfigValidationError(title, located, sourceName);
  }
  return normalizePipeline(pipeline, systems);
}

function validatePipeline(input: unknown): {
  issues: LocatedIssue[];
  pipeline?: PipelineSchema;
  systems: Map<string, SystemSchema>;
} {
  const issues: LocatedIssue[] = [];
  const systems = new Map<string, SystemSchema>();
  const raw = withoutReservedKeys(input, [], issues);
  if (!isRecord(raw)) {
    return { issues: [...issues, { at: [], message: 'must be a mapping with version and systems' }], systems };
  }
  const pipeline = plainToInstance(PipelineSchema, raw);
  issues.push(...issuesFromValidationErrors(validateSync(pipeline, VALIDATOR_OPTIONS), []));

  // class-validator and class-transformer do not descend into a record of objects keyed by
  // user-chosen names, so each system is converted and validated on its own.
  const rawSystems = raw['systems'];
  if (isRecord(rawSystems)) {
    const entries = Object.entries(rawSystems);
    if (entries.length === 0) {
      issues.push({ at: ['systems'], message: 'must declare at least one system' });
    }
    for (const [name, value] of entries) {
      const at = ['systems', name];
      const nameProblem = systemNameProblem(name);
      if (nameProblem !== undefined) issues.push({ at, message: nameProblem });
      if (!isRecord(value)) {
        issues.push({ at, message: `must be a mapping, not ${describeValue(value)}` });
        continue;
      }
      const system = plainToInstance(SystemSchema, value);
      issues.push(...issuesFromValidationErrors(validateSync(system, VALIDATOR_OPTIONS), at));
      systems.set(name, system);
    }
  }
  issues.push(...checkPipelineRules(systems, pipeline.kafka));
  return { issues, pipeline, systems };
}

// class-transformer silently drops `__proto__` and `constructor` keys and throws a TypeError on an
// object owning a `constructor`; such keys are reported instead and never reach it.
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function withoutReservedKeys(value: unknown, at: PathSegments, issues: LocatedIssue[]): unknown {
  if (Array.isArray(value)) {
    return value.map((item: unknown, index) => withoutReservedKeys(item, [...at, index], issues));
  }
  if (!isRecord(value)) return value;
  const clean: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (RESERVED_KEYS.has(key)) {
      issues.push({ at: [...at, key], message: 'is a reserved name and not allowed here' });
    } else {
      clean[key] = withoutReservedKeys(child, [...at, key], issues);
    }
  }
  return clean;
}

function syntaxIssue(error: YAMLError): ConfigIssue {
  // prettyErrors appends " at line L, column C:" and a code excerpt; the position is kept as
  // numbers instead.
  const firstLine = error.message.split('\n')[0] ?? error.message;
  const message = `YAML syntax error: ${firstLine.replace(/ at line \d+, column \d+:?$/, '')}`;
  const position = error.linePos?.[0];
  return position === undefined ? { path: '', message } : { path: '', message, line: position.line, column: position.col };
}

function withPosition(issue: LocatedIssue, document: Document, lineCounter: LineCounter): ConfigIssue {
  const path = formatPath(issue.at);
  const offset = offsetOf(issue.at, document);
  if (offset === undefined) return { path, message: issue.message };
  const { line, col } = lineCounter.linePos(offset);
  return { path, message: issue.message, line, column: col };
}

// Position of the deepest node on `at` that exists in the file: the key of a mapping entry, the
// item of a list, or, for a missing field, the entry that should contain it.
function offsetOf(at: PathSegments, document: Document): number | undefined {
  let node: unknown = document.contents;
  let offset: number | undefined;
  for (const segment of at) {
    if (isAlias(node)) node = node.resolve(document);
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (pair === undefined || !isScalar(pair.key)) break;
      offset = pair.key.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      if (!isScalar(item) && !isMap(item) && !isSeq(item)) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}
