import { readFileSync } from 'node:fs';
import { ContractError, Topics, parseKeyedChangeEvent } from '@sync/contracts';
import { loadMappings, MappingEngine, type TransformInput } from '@sync/mapping';
import { appMappers } from '@sync/custom-mappers';
import { EXIT, UsageError, type Command } from '../command';
import { loadPipeline, maxPositionals, parseOptions } from './pipeline-args';

const HELP = `Usage: sync-ctl map --input FILE [--pipeline FILE] [--topic TOPIC] [--json]

Runs the mappings of the pipeline file on one sample message, without Kafka, and prints what
domain-transform would produce (domain events or write-back requests, with their headers) and
which rules produced nothing and why (unchanged, echo, condition, no-rule).

The input file is JSON, one of:
  a message      { "topic": "keyed.crm.public.users", "key": "...", "headers": {...}, "value": {...} }
                 (a domain event: topic domain.<aggregate>.v<N>, ce_* headers, value = data)
  a keyed change { "op": "u", "before": {...}, "after": {...}, "source": {...}, "globalId": "..." }
  a CloudEvent   { "specversion": "1.0", "type": "UserChanged", "id": "...", "source": "...",
                   "subject": "<global id>", "data": {...} }   (structured JSON; needs --topic
                   unless exactly one domain topic has reverse rules)

Options:
  --input FILE     the sample message (required)
  --pipeline FILE  pipeline file (default: $PIPELINE_FILE or ./pipeline.yaml)
  --topic TOPIC    topic the sample is read from (overrides the file's)
  --json           accepted for symmetry: the result is always JSON
                   ({"input":{"topic"},"outputs":[{rule,topic,key,headers,value}],"skipped":[...]})

Exit codes: 0 mapped (even to nothing), 2 bad pipeline file, bad input or a mapping error, 4 other.

Example:
  sync-ctl map --pipeline pipeline.yaml --input test/fixtures/mappings/keyed-user-update.json`;

const OPTIONS = { input: { type: 'string' }, pipeline: { type: 'string' }, topic: { type: 'string' }, json: { type: 'boolean' } } as const;

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readJson(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--input ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--input ${file}: not valid JSON (${(err as Error).message})`);
  }
  if (!isRecord(value)) throw new UsageError(`--input ${file}: must be a JSON object`);
  return value;
}

const CE_ATTRIBUTES = ['id', 'source', 'type', 'specversion', 'subject', 'time', 'dataschema'] as const;

/** Turns any of the accepted sample shapes into the message the engine reads from Kafka. */
export function sampleMessage(sample: Json, topicOption: string | undefined, domainTopics: readonly string[]): TransformInput {
  const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
  if ('value' in sample) {
    const topic = topicOption ?? sample['topic'];
    if (typeof topic !== 'string') throw new UsageError('the sample message needs a "topic" (or --topic)');
    const headers = isRecord(sample['headers']) ? Object.fromEntries(Object.entries(sample['headers']).map(([k, v]) => [k, String(v)])) : {};
    return { topic, key: typeof sample['key'] === 'string' ? sample['key'] : null, value: text(sample['value']), headers };
  }
  if ('op' in sample && 'source' in sample) {
    const change = parseKeyedChangeEvent(sample);
    return { topic: topicOption ?? Topics.keyed(change.source), key: change.globalId, value: JSON.stringify(sample), headers: {} };
  }
  if ('specversion' in sample && 'type' in sample) {
    const topic = topicOption ?? (domainTopics.length === 1 ? domainTopics[0] : undefined);
    if (topic === undefined) throw new UsageError(`a CloudEvent sample needs --topic (domain topics with reverse rules: ${domainTopics.join(', ') || 'none'})`);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    for (const attr of CE_ATTRIBUTES) if (typeof sample[attr] === 'string') headers[`ce_${attr}`] = sample[attr];
    for (const [name, value] of Object.entries(sample)) {
      if (!CE_ATTRIBUTES.includes(name as (typeof CE_ATTRIBUTES)[number]) && name !== 'data' && name !== 'datacontenttype' && typeof value === 'string') headers[name] = value;
    }
    return { topic, key: typeof sample['subject'] === 'string' ? sample['subject'] : null, value: text(sample['data'] ?? null), headers };
  }
  throw new UsageError('the input is neither a message ({ topic, headers, value }), a keyed change event nor a CloudEvent');
}

function parsedValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

export const mapCommand: Command = {
  path: ['map'],
  summary: 'run the mappings on a sample change or domain event from a file and print the output',
  help: HELP,
  options: OPTIONS,
  complete: { files: ['input', 'pipeline'] },
  async run(args, io) {
    const { values, positionals } = parseOptions(args, OPTIONS);
    maxPositionals(positionals, 0, 'the sample is given with --input FILE');
    if (values.input === undefined) throw new UsageError('--input FILE is required (see --help)');
    const pipeline = loadPipeline(values.pipeline, io.pipelineFile);
    const mappers = appMappers();
    const engine = new MappingEngine(loadMappings(pipeline, mappers), mappers);
    const input = sampleMessage(readJson(values.input), values.topic, engine.domainInputTopics());
    try {
      const result = await engine.transform(input);
      io.out(JSON.stringify({
        input: { topic: input.topic },
        outputs: result.outputs.map((o) => ({ rule: o.rule, topic: o.topic, key: o.key, headers: o.headers, value: parsedValue(o.value) })),
        skipped: result.skipped,
      }, null, 2));
      return EXIT.ok;
    } catch (err) {
      // Malformed input, a schema violation or a failing expression: what the DLQ would receive.
      if (err instanceof ContractError) throw new UsageError(`the sample would be dead-lettered: ${err.message}`);
      throw err;
    }
  },
};
