import { CloudEvent, Kafka, ValidationError, type KafkaMessage } from 'cloudevents';
import { assertCleanHeaders, cleanText, ContractError } from '@sync/contracts';

/** The CloudEvents attributes the suite sets on every domain event. */
export interface DomainEventAttributes {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  /** Global id of the aggregate. */
  readonly subject: string;
  readonly time: string;
  readonly dataschema: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** CloudEvents extension attributes (lower-case names), e.g. `legacyversion` or `basedon`. */
  readonly extensions?: Readonly<Record<string, string>>;
}

/**
 * Extension on events forward mapping produced: the legacy row version the event shows,
 * `<system>.<schema>.<table>@<position>`. A new service keeps the last one it applied per
 * aggregate and sends it back as `basedon` on its own changes, so the write-back can tell a
 * legacy edit it had not seen (a conflict) from one it had (docs/legacy-writeback.md, Conflicts).
 */
export const LEGACY_VERSION_EXTENSION = 'legacyversion';
export const BASED_ON_EXTENSION = 'basedon';

/** A legacy row version as carried in `legacyversion` / `basedon`. */
export interface LegacyVersionRef {
  readonly system: string;
  readonly schema: string;
  readonly table: string;
  readonly position: string;
}

export function formatLegacyVersion(v: LegacyVersionRef): string {
  return `${v.system}.${v.schema}.${v.table}@${v.position}`;
}

/** Parses `<system>.<schema>.<table>@<position>`; the system name has no dots, the position no '@'. */
export function parseLegacyVersion(text: string, attribute = BASED_ON_EXTENSION): LegacyVersionRef {
  const at = text.lastIndexOf('@');
  const entity = at > 0 ? text.slice(0, at) : '';
  const position = at > 0 ? text.slice(at + 1) : '';
  const firstDot = entity.indexOf('.');
  const lastDot = entity.lastIndexOf('.');
  if (position === '' || firstDot <= 0 || lastDot === firstDot || lastDot === entity.length - 1) {
    throw new ContractError(`ce_${attribute}: "${text.slice(0, 200)}" is not <system>.<schema>.<table>@<position>`);
  }
  return { system: entity.slice(0, firstDot), schema: entity.slice(firstDot + 1, lastDot), table: entity.slice(lastDot + 1), position };
}

/** A domain event read from Kafka (binary mode), with the attributes the mappings need. */
export interface DecodedDomainEvent {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject: string | undefined;
  /** ce_time as sent, undefined when absent (the SDK would invent "now", which is not repeatable). */
  readonly time: string | undefined;
  readonly dataschema: string | undefined;
  readonly data: unknown;
  /** The legacy row version the sender's change is based on (extension `basedon`), if it sent one. */
  readonly basedOn: LegacyVersionRef | undefined;
}

export const CE_CONTENT_TYPE = 'application/json';

// The SDK's binary serializer also writes ce_datacontenttype (carried by content-type in binary
// mode), ce_partitionkey (the message key) and undefined attributes; those are dropped.
const DROPPED = new Set(['ce_datacontenttype', 'ce_partitionkey']);

/**
 * Encodes a domain event as a Kafka message in CloudEvents binary content mode (ce_* headers,
 * content-type, value = the data as JSON), validated against the CloudEvents 1.0 spec. The output
 * is the CloudEvents SDK's (Kafka.binary), byte for byte; the SDK itself runs only when the
 * attributes are not known to be valid (below), because building and validating its CloudEvent
 * object for every event was a tenth of domain-transform's time.
 */
export function encodeDomainEvent(attrs: DomainEventAttributes): EncodedDomainEvent {
  return leanEncode(attrs) ?? sdkEncode(attrs);
}

export interface EncodedDomainEvent {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** The encoding through the CloudEvents SDK: the reference the lean encoder must equal. */
function sdkEncode(attrs: DomainEventAttributes): EncodedDomainEvent {
  const { extensions, ...core } = attrs;
  const event = new CloudEvent({ ...extensions, ...core, specversion: '1.0', datacontenttype: CE_CONTENT_TYPE, data: attrs.data });
  const message = Kafka.binary(event);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (typeof value === 'string' && !DROPPED.has(name)) headers[name] = value;
  }
  return { key: attrs.subject, value: JSON.stringify(attrs.data), headers };
}

// Attribute names the SDK treats itself (an extension of that name would not be an extension).
const SDK_ATTRIBUTES = new Set(['id', 'time', 'type', 'source', 'specversion', 'datacontenttype', 'subject', 'datacontentencoding', 'dataschema', 'data_base64', 'schemaurl', 'data', 'partitionkey']);
const EXTENSION_NAME = /^[a-z0-9]+$/;
// Date.prototype.toISOString's shape for years 0000-9999; with the round trip below, a valid RFC 3339 date-time.
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
/** source / type / dataschema / extension names the SDK has accepted once: their validity does not depend on the event. */
const acceptedConstants = new Set<string>();
const ACCEPTED_MAX = 10_000;

/**
 * The SDK's encoding without the SDK, or undefined when only the SDK can say (first sight of a
 * source/type/dataschema, or a value outside the plainly valid: empty id or subject, a time not in
 * toISOString form, an extension value that is not a string, binary data). The headers are built in
 * the SDK's order: content-type, then ce_id, time, type, source, specversion, subject, dataschema,
 * then the extensions in the order given.
 */
function leanEncode(attrs: DomainEventAttributes): EncodedDomainEvent | undefined {
  const { id, source, type, subject, time, dataschema, data, extensions } = attrs;
  if (typeof id !== 'string' || id === '' || typeof subject !== 'string' || subject === '') return undefined;
  if (typeof source !== 'string' || typeof type !== 'string' || typeof dataschema !== 'string') return undefined;
  if (typeof time !== 'string' || !ISO_TIME.test(time)) return undefined;
  const ms = Date.parse(time);
  if (Number.isNaN(ms) || new Date(ms).toISOString() !== time) return undefined;
  if (typeof data !== 'object' || data === null || ArrayBuffer.isView(data)) return undefined;
  const names = extensions === undefined ? [] : Object.keys(extensions);
  for (const name of names) {
    if (!EXTENSION_NAME.test(name) || SDK_ATTRIBUTES.has(name) || typeof extensions![name] !== 'string') return undefined;
  }
  const constants = `${source}\n${type}\n${dataschema}\n${names.join(',')}`;
  if (!acceptedConstants.has(constants)) {
    // The SDK validates this event in full (and throws its own error when it must); from now on
    // only the per-event values above need checking.
    const encoded = sdkEncode(attrs);
    if (acceptedConstants.size >= ACCEPTED_MAX) acceptedConstants.clear();
    acceptedConstants.add(constants);
    return encoded;
  }
  const headers: Record<string, string> = {
    'content-type': CE_CONTENT_TYPE,
    ce_id: id,
    ce_time: time,
    ce_type: type,
    ce_source: source,
    ce_specversion: '1.0',
    ce_subject: subject,
    ce_dataschema: dataschema,
  };
  for (const name of names) headers[`ce_${name}`] = extensions![name]!;
  return { key: subject, value: JSON.stringify(data), headers };
}

const REQUIRED_HEADERS = ['ce_id', 'ce_source', 'ce_type', 'ce_specversion'] as const;

/** Decodes a binary-mode CloudEvent; a message that is not one is a ContractError saying why. */
export function decodeDomainEvent(message: { key: Buffer | string | null; value: Buffer | string | null; headers: Readonly<Record<string, string>> }): DecodedDomainEvent {
  // ce_subject becomes a global id in the key map and ce_id a command id: a NUL or lone surrogate
  // in any header (or the key) is refused here, naming it, before it reaches a database.
  assertCleanHeaders(message.headers);
  if (message.key !== null) cleanText('message key', typeof message.key === 'string' ? message.key : message.key.toString('utf8'));
  const missing = REQUIRED_HEADERS.filter((h) => !message.headers[h]);
  if (missing.length > 0) throw new ContractError(`not a CloudEvent in Kafka binary mode: header ${missing.join(', ')} missing`);
  if (message.headers['ce_specversion'] !== '1.0') throw new ContractError(`ce_specversion: ${message.headers['ce_specversion']} is not supported (1.0 only)`);
  const contentType = message.headers['content-type'] ?? CE_CONTENT_TYPE;
  if (!contentType.startsWith(CE_CONTENT_TYPE)) throw new ContractError(`content-type: ${contentType} is not supported (application/json only)`);
  if (message.value === null || message.value.length === 0) throw new ContractError('message value: is empty (a domain event needs data)');
  const lean = leanDecode(message, contentType);
  if (lean !== undefined) return lean;
  let event: CloudEvent<unknown>;
  try {
    const kafkaMessage: KafkaMessage = { key: message.key ?? '', value: message.value, body: message.value, headers: { ...message.headers, 'content-type': contentType } };
    const decoded = Kafka.toEvent(kafkaMessage);
    if (Array.isArray(decoded)) throw new ContractError('batched CloudEvents are not supported');
    event = decoded as CloudEvent<unknown>;
    event.validate();
  } catch (err) {
    if (err instanceof ContractError) throw err;
    if (err instanceof SyntaxError) throw new ContractError(`message value: is not valid JSON (${err.message})`);
    if (err instanceof ValidationError) throw new ContractError(`invalid CloudEvent: ${err.message} ${JSON.stringify(err.errors ?? [])}`);
    throw new ContractError(`invalid CloudEvent: ${(err as Error).message}`);
  }
  const decoded: DecodedDomainEvent = {
    id: event.id,
    source: event.source,
    type: event.type,
    subject: event.subject,
    time: message.headers['ce_time'],
    dataschema: event.dataschema,
    data: event.data,
    basedOn: message.headers[`ce_${BASED_ON_EXTENSION}`] ? parseLegacyVersion(message.headers[`ce_${BASED_ON_EXTENSION}`]!) : undefined,
  };
  rememberAccepted(decoded, message.headers);
  return decoded;
}

/** source / type / dataschema the SDK accepted on decoding (validity does not depend on the event). */
const acceptedOnDecode = new Set<string>();

function decodeConstants(headers: Readonly<Record<string, string>>): string {
  return `${headers['ce_source']}\n${headers['ce_type']}\n${headers['ce_dataschema'] ?? ''}`;
}

function rememberAccepted(decoded: DecodedDomainEvent, headers: Readonly<Record<string, string>>): void {
  if (decoded.source !== headers['ce_source'] || decoded.type !== headers['ce_type'] || decoded.dataschema !== headers['ce_dataschema']) return;
  if (acceptedOnDecode.size >= ACCEPTED_MAX) acceptedOnDecode.clear();
  acceptedOnDecode.add(decodeConstants(headers));
}

/**
 * The SDK's decoding (Kafka.toEvent, then validate) without the SDK, for the plainly valid case
 * only: lower-case header names, every ce_* header non-empty and a plain extension (or one of id,
 * source, type, specversion, time, subject, dataschema), a time whose normalised form is an RFC
 * 3339 date-time, JSON data, and a source/type/dataschema the SDK accepted before. Anything else
 * returns undefined, and the SDK decides (with its own errors).
 */
function leanDecode(message: { key: Buffer | string | null; value: Buffer | string | null; headers: Readonly<Record<string, string>> }, contentType: string): DecodedDomainEvent | undefined {
  const headers = message.headers;
  if (contentType === '' || !acceptedOnDecode.has(decodeConstants(headers))) return undefined;
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase() !== name) return undefined;
    if (!name.startsWith('ce_')) continue;
    const attribute = name.slice(3);
    if (headers[name] === '' || !EXTENSION_NAME.test(attribute)) return undefined;
    if (SDK_ATTRIBUTES.has(attribute) && !DECODED_ATTRIBUTES.has(attribute)) return undefined;
  }
  const time = headers['ce_time'];
  if (time !== undefined) {
    const ms = Date.parse(time);
    if (Number.isNaN(ms) || !ISO_TIME.test(new Date(ms).toISOString())) return undefined;
  }
  const value = message.value!;
  let data: unknown;
  try {
    data = JSON.parse(typeof value === 'string' ? value : value.toString());
  } catch {
    return undefined;
  }
  const basedOn = headers[`ce_${BASED_ON_EXTENSION}`];
  return {
    id: headers['ce_id']!,
    source: headers['ce_source']!,
    type: headers['ce_type']!,
    subject: headers['ce_subject'],
    time,
    dataschema: headers['ce_dataschema'],
    data,
    basedOn: basedOn ? parseLegacyVersion(basedOn) : undefined,
  };
}

// Attributes the SDK's binary decoding reads from ce_* headers (besides extensions).
const DECODED_ATTRIBUTES = new Set(['id', 'type', 'source', 'specversion', 'time', 'subject', 'dataschema']);
