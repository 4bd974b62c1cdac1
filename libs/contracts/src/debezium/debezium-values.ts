import { ContractError } from '../contract-error';
import type { ColumnSemantic } from './connect-schema';

/**
 * Column values between the suite's native form (decimals as exact strings, timestamps as ISO
 * text, binary as base64, JSON as JSON) and Debezium's (Connect Decimal bytes, epoch integers,
 * ZonedTimestamp text in UTC). Integers that may pass 2^53 are bigint; json-writer.ts writes them
 * as bare digits.
 */


/** Minimal big-endian two's complement bytes, as java.math.BigInteger.toByteArray gives them. */
export function twosComplement(n: bigint): Buffer {
  let bytes = 1;
  if (n >= 0n) {
    while (n >= 1n << BigInt(8 * bytes - 1)) bytes++;
  } else {
    while (n < -(1n << BigInt(8 * bytes - 1))) bytes++;
  }
  let v = n < 0n ? (1n << BigInt(8 * bytes)) + n : n;
  const out = Buffer.alloc(bytes);
  for (let i = bytes - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function fromTwosComplement(bytes: Buffer): bigint {
  if (bytes.length === 0) return 0n;
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return (bytes[0]! & 0x80) !== 0 ? v - (1n << BigInt(8 * bytes.length)) : v;
}

const DECIMAL = /^([+-])?(\d*)(?:\.(\d*))?$/;

/** A decimal's text as its unscaled integer at `scale` (or at its own scale when null). */
export function unscaled(text: string, scale: number | null, column: string): { unscaled: bigint; scale: number } {
  const m = DECIMAL.exec(text.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new ContractError(`${column}: "${text}" is not a decimal number Debezium can carry`);
  const fraction = m[3] ?? '';
  const target = scale ?? fraction.length;
  if (fraction.length > target && /[^0]/.test(fraction.slice(target))) {
    throw new ContractError(`${column}: ${text} has more than the column's ${target} decimal places`);
  }
  const digits = (m[2] || '0') + fraction.slice(0, target).padEnd(target, '0');
  const value = BigInt(digits);
  return { unscaled: m[1] === '-' ? -value : value, scale: target };
}

export function decimalText(value: bigint, scale: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  return negative ? `-${text}` : text;
}

const DATE_TIME = /^(-?\d{4,})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const TIME = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/;

interface Instant {
  readonly days: number;
  /** Whole seconds since the epoch (UTC). */
  readonly seconds: number;
  readonly nanos: number;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil), no Date objects. */
function epochDays(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The civil date of a day count (civil_from_days). */
function civil(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day: doy - Math.floor((153 * mp + 2) / 5) + 1 };
}

function offsetSeconds(zone: string | undefined): number {
  if (!zone || zone === 'Z' || zone === 'z') return 0;
  const sign = zone.charCodeAt(0) === 45 ? -1 : 1;
  const digits = zone.length > 3 && zone[3] === ':' ? zone.slice(1, 3) + zone.slice(4) : zone.slice(1);
  return sign * (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2, 4) || '0') * 60);
}

function parseInstant(text: string, column: string): Instant {
  const m = DATE_TIME.exec(text);
  if (!m) throw new ContractError(`${column}: "${text}" is not a date/time Debezium can carry`);
  const days = epochDays(Number(m[1]), Number(m[2]), Number(m[3]));
  const daySeconds = Number(m[4] ?? 0) * 3600 + Number(m[5] ?? 0) * 60 + Number(m[6] ?? 0) - offsetSeconds(m[8]);
  const fraction = m[7];
  return { days, seconds: days * 86_400 + daySeconds, nanos: fraction === undefined ? 0 : Number(fraction.padEnd(9, '0')) };
}

/** `seconds * perSecond + nanos / (1e9 / perSecond)`, a number while exact, else a bigint. */
function epochUnits(i: Instant, perSecond: number): number | bigint {
  const sub = Math.floor(i.nanos / (1_000_000_000 / perSecond));
  const n = i.seconds * perSecond + sub;
  return Number.isSafeInteger(n) ? n : BigInt(i.seconds) * BigInt(perSecond) + BigInt(sub);
}

function parseTime(text: string, column: string): bigint {
  const m = TIME.exec(text.trim());
  if (!m) throw new ContractError(`${column}: "${text}" is not a time of day Debezium can carry`);
  const seconds = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? 0);
  return BigInt(seconds) * 1_000_000_000n + BigInt((m[4] ?? '').padEnd(9, '0'));
}

function pad(n: number | bigint, width: number): string {
  return String(n).padStart(width, '0');
}

function fractionText(nanos: number, width: number | null): string {
  if (width !== null && width > 0) return `.${pad(nanos, 9).slice(0, Math.min(width, 9))}`;
  if (nanos === 0) return '';
  return `.${pad(nanos, 9).replace(/0+$/, '')}`;
}

/** ISO date and time of an instant in UTC; `zone` appends "Z". */
function isoText(seconds: bigint | number, nanos: number, width: number | null, zone: boolean): string {
  const secs = Number(seconds);
  const days = Math.floor(secs / 86_400);
  const rest = secs - days * 86_400;
  const { year, month, day } = civil(days);
  const yearText = year < 0 ? `-${pad(-year, 4)}` : pad(year, 4);
  const time = `${pad(Math.floor(rest / 3600), 2)}:${pad(Math.floor((rest % 3600) / 60), 2)}:${pad(rest % 60, 2)}`;
  return `${yearText}-${pad(month, 2)}-${pad(day, 2)}T${time}${fractionText(nanos, width)}${zone ? 'Z' : ''}`;
}

function splitUnits(value: bigint, perSecond: bigint): { seconds: bigint; nanos: number } {
  let seconds = value / perSecond;
  let rest = value % perSecond;
  if (rest < 0n) {
    seconds -= 1n;
    rest += perSecond;
  }
  return { seconds, nanos: Number(rest * (1_000_000_000n / perSecond)) };
}

function asBigInt(value: unknown, column: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  throw new ContractError(`${column}: ${JSON.stringify(value)} is not an integer`);
}

function safe(n: bigint): number | bigint {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

/** One native value as Debezium carries it; null stays null. */
export function toDebeziumValue(value: unknown, semantic: ColumnSemantic, column: string): unknown {
  if (value === null || value === undefined) return null;
  switch (semantic.kind) {
    case 'boolean':
      return typeof value === 'boolean' ? value : value === 1 || value === '1' || value === 'true' || value === 't';
    case 'int16':
    case 'int32':
    case 'float32':
    case 'float64':
      return typeof value === 'number' ? value : Number(value);
    case 'int64':
      return typeof value === 'number' ? value : safe(asBigInt(value, column));
    case 'bytes':
      return Buffer.isBuffer(value) ? value.toString('base64') : String(value);
    case 'string':
      return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
    case 'named-string':
      return typeof value === 'string' && !semantic.name.endsWith('.Json') ? value : JSON.stringify(value);
    case 'zoned-timestamp': {
      const instant = parseInstant(String(value), column);
      return isoText(instant.seconds, instant.nanos, semantic.fraction, true);
    }
    case 'decimal':
      return twosComplement(unscaled(String(value), semantic.scale, column).unscaled).toString('base64');
    case 'variable-decimal': {
      const d = unscaled(String(value), null, column);
      return { scale: d.scale, value: twosComplement(d.unscaled).toString('base64') };
    }
    case 'date':
      return parseInstant(String(value), column).days;
    case 'timestamp':
      return epochUnits(parseInstant(String(value), column), 1000);
    case 'micro-timestamp':
      return epochUnits(parseInstant(String(value), column), 1_000_000);
    case 'nano-timestamp':
      return epochUnits(parseInstant(String(value), column), 1_000_000_000);
    case 'time':
      return Number(parseTime(String(value), column) / 1_000_000n);
    case 'micro-time':
      return safe(parseTime(String(value), column) / 1000n);
    case 'nano-time':
      return safe(parseTime(String(value), column));
    default: {
      const never: never = semantic;
      return never;
    }
  }
}

function timeText(nanosOfDay: bigint): string {
  const seconds = Number(nanosOfDay / 1_000_000_000n);
  const nanos = Number(nanosOfDay % 1_000_000_000n);
  return `${pad(Math.floor(seconds / 3600), 2)}:${pad(Math.floor((seconds % 3600) / 60), 2)}:${pad(seconds % 60, 2)}${fractionText(nanos, null)}`;
}

function base64Bytes(value: unknown, column: string): Buffer {
  if (typeof value !== 'string') throw new ContractError(`${column}: a Decimal must be base64 text`);
  return Buffer.from(value, 'base64');
}

/** One Debezium value back in the suite's native form (the inverse of toDebeziumValue). */
export function fromDebeziumValue(value: unknown, semantic: ColumnSemantic, column: string): unknown {
  if (value === null || value === undefined) return null;
  switch (semantic.kind) {
    case 'decimal':
      return decimalText(fromTwosComplement(base64Bytes(value, column)), semantic.scale);
    case 'variable-decimal': {
      const v = value as { scale?: unknown; value?: unknown };
      const scale = Number(v.scale);
      if (!Number.isInteger(scale) || scale < 0) throw new ContractError(`${column}: a VariableScaleDecimal needs an integer scale`);
      return decimalText(fromTwosComplement(base64Bytes(v.value, column)), scale);
    }
    case 'date':
      return isoText(asBigInt(value, column) * 86_400n, 0, null, false).slice(0, -9);
    case 'timestamp': {
      const t = splitUnits(asBigInt(value, column), 1000n);
      return isoText(t.seconds, t.nanos, null, false);
    }
    case 'micro-timestamp': {
      const t = splitUnits(asBigInt(value, column), 1_000_000n);
      return isoText(t.seconds, t.nanos, null, false);
    }
    case 'nano-timestamp': {
      const t = splitUnits(asBigInt(value, column), 1_000_000_000n);
      return isoText(t.seconds, t.nanos, null, false);
    }
    case 'time':
      return timeText(asBigInt(value, column) * 1_000_000n);
    case 'micro-time':
      return timeText(asBigInt(value, column) * 1000n);
    case 'nano-time':
      return timeText(asBigInt(value, column));
    case 'named-string':
      if (semantic.name.endsWith('.Json') && typeof value === 'string') {
        try {
          return JSON.parse(value) as unknown;
        } catch {
          throw new ContractError(`${column}: an io.debezium.data.Json value is not JSON`);
        }
      }
      return value;
    case 'boolean':
    case 'int16':
    case 'int32':
    case 'int64':
    case 'float32':
    case 'float64':
    case 'bytes':
    case 'string':
    case 'zoned-timestamp':
      return value;
    default: {
      const never: never = semantic;
      return never;
    }
  }
}
