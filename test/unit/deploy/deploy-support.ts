import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Ajv from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';

/** Repository root, from dist/test/unit/deploy/ (compiled) or test/unit/deploy/ (sources). */
export const REPO_ROOT = findRepoRoot(__dirname);

function findRepoRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'deploy'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no repository root above ${from}`);
    dir = parent;
  }
  return dir;
}

export const repoPath = (...parts: string[]): string => resolve(REPO_ROOT, ...parts);

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface K8sObject extends JsonObject {
  apiVersion: string;
  kind: string;
  metadata: JsonObject & { name: string };
}

/**
 * Renders a kustomization with the real kustomize: `kubectl kustomize` (kubectl embeds kustomize
 * v5) or a standalone `kustomize build`. No hand-written renderer stands in for it.
 */
export function renderKustomize(dir: string): K8sObject[] {
  const attempts: [string, string[]][] = [
    ['kubectl', ['kustomize', dir]],
    ['kustomize', ['build', dir]],
  ];
  const failures: string[] = [];
  for (const [command, args] of attempts) {
    let text: string;
    try {
      text = execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    } catch (err) {
      const error = err as NodeJS.ErrnoException & { stderr?: string };
      if (error.code === 'ENOENT') {
        failures.push(`${command}: not installed`);
        continue;
      }
      throw new Error(`${command} ${args.join(' ')} failed: ${error.stderr ?? error.message}`);
    }
    return parseAllDocuments(text).map((doc) => doc.toJS() as K8sObject);
  }
  throw new Error(`no kustomize renderer (${failures.join('; ')}): install kubectl or kustomize`);
}

type ModelClass = new (data: JsonObject) => { validate(): void };

/** The Kubernetes kinds the manifests use, validated by kubernetes-models (the API's OpenAPI schemas). */
const MODELS: Record<string, ModelClass> = {
  'apps/v1/Deployment': Deployment as unknown as ModelClass,
  'v1/Service': Service as unknown as ModelClass,
  'v1/ConfigMap': ConfigMap as unknown as ModelClass,
  'v1/Secret': Secret as unknown as ModelClass,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget as unknown as ModelClass,
};

/**
 * Validates one object against the Kubernetes JSON schema of its apiVersion and kind; returns the
 * problems (empty when valid). A kind without a schema here is a problem, not a pass.
 */
export function k8sSchemaProblems(object: JsonObject): string[] {
  const key = `${String(object['apiVersion'])}/${String(object['kind'])}`;
  const Model = MODELS[key];
  if (!Model) return [`${key}: no schema registered in deploy-support.ts`];
  try {
    new Model(key === 'v1/Secret' ? unwrapSecretData(object) : object).validate();
    return [];
  } catch (err) {
    return [`${key} ${describeName(object)}: ${(err as Error).message}`];
  }
}

/**
 * kustomize writes long base64 Secret values as block scalars wrapped every 76 characters. The API
 * server decodes them with Go's base64, which skips line breaks; the schema's "byte" format
 * does not, so the breaks are removed before validation (the value itself is still checked).
 */
function unwrapSecretData(secret: JsonObject): JsonObject {
  const data = secret['data'];
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return secret;
  const unwrapped = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, typeof v === 'string' ? v.replace(/[\r\n]/g, '') : v]));
  return { ...secret, data: unwrapped };
}

function describeName(object: JsonObject): string {
  const metadata = object['metadata'];
  return metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata) ? String(metadata['name']) : '?';
}

let composeValidator: ReturnType<Ajv['compile']> | undefined;

/**
 * Validates a compose file (already parsed, YAML merge keys resolved) against the Compose
 * Specification JSON schema as shipped by the dclint package; returns the problems.
 */
export function composeSchemaProblems(document: unknown): string[] {
  if (!composeValidator) {
    const schemaFile = join(dirname(require.resolve('dclint/package.json')), 'schemas', 'compose.schema.json');
    const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as Record<string, unknown>;
    // Draft-07 schema; its "$schema" uses an https URL Ajv does not know as the draft-07 meta-schema.
    delete schema['$schema'];
    composeValidator = new Ajv({ allErrors: true, strict: false }).compile(schema);
  }
  if (composeValidator(document)) return [];
  return (composeValidator.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? ''} ${JSON.stringify(error.params)}`);
}

/** Parses a YAML file as compose does: `<<` merge keys resolved. */
export function readYamlWithMerges(file: string): unknown {
  return parse(readFileSync(file, 'utf8'), { merge: true });
}

/** Every `{ env: NAME }` secret reference in a pipeline file. */
export function pipelineEnvRefs(pipelineText: string): string[] {
  const names = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
    } else if (node !== null && typeof node === 'object') {
      const entries = Object.entries(node);
      if (entries.length === 1 && entries[0]?.[0] === 'env' && typeof entries[0][1] === 'string') names.add(entries[0][1]);
      else entries.forEach(([, child]) => visit(child));
    }
  };
  visit(parse(pipelineText));
  return [...names].sort();
}

export function asObject(value: Json | undefined, what: string): JsonObject {
  if (value === null || value === undefined || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${what}: expected an object, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function asArray(value: Json | undefined, what: string): Json[] {
  if (!Array.isArray(value)) throw new Error(`${what}: expected a list, got ${JSON.stringify(value)}`);
  return value;
}
