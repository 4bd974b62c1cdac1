import jsonata from 'jsonata';

/** Values a mapping expression may read besides its input document (as `$name`). */
export type Bindings = Readonly<Record<string, unknown>>;

/** Returned by Expression.direct when this input needs the general JSONata evaluator. */
export const NEEDS_JSONATA: unique symbol = Symbol('needs-jsonata');

/** A compiled JSONata expression. */
export interface Expression {
  readonly source: string;
  evaluate(input: unknown, bindings: Bindings): Promise<unknown>;
  /**
   * Set for field paths (`name`, `a.b.c`, `$binding`, `$binding.a.b`): the same result as
   * evaluate(), synchronously and without JSONata, or NEEDS_JSONATA for an input whose result
   * only JSONata defines (an array on the path, an inherited property).
   */
  readonly direct?: (input: unknown, bindings: Bindings) => unknown;
}

// A bare column name or a dotted path of them is by far the most common mapping; reading it
// directly gives the same result as JSONata (undefined when absent) without its async evaluator,
// which matters at high volume. Anything else is compiled by JSONata, once, at load.
const NAME = '[A-Za-z_][A-Za-z0-9_]*';
const PLAIN_NAME = new RegExp(`^${NAME}$`);
const FIELD_PATH = new RegExp(`^\\$?${NAME}(?:\\.${NAME})*$`);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Limits on one evaluation of one expression. */
export interface ExpressionLimits {
  /** Wall-clock budget in ms (default 1000); past it the evaluation fails with a data error. */
  readonly timeoutMs?: number;
  /** Deepest nesting of evaluation steps (recursion) allowed (default 500). */
  readonly maxDepth?: number;
}

export const DEFAULT_EXPRESSION_LIMITS = { timeoutMs: 1_000, maxDepth: 500 } as const;

/** How often a long evaluation hands the event loop back (heartbeat timers must run). */
const YIELD_EVERY_MS = 20;
/** Binding that carries one evaluation's clock (a plain name: jsonata binds only string keys per call). */
const BUDGET = '__syncBudget';

/** Thrown when an evaluation runs past its budget; shaped like a JSONata error. */
class BudgetExceeded extends Error {
  readonly code = 'D1012';
}

/** One evaluation's clock: fails past the deadline, yields to the event loop every few ms. */
class Budget {
  private readonly deadline: number;
  private lastYield: number;
  private steps = 0;
  constructor(private readonly timeoutMs: number) {
    this.lastYield = Date.now();
    this.deadline = this.lastYield + timeoutMs;
  }
  async step(): Promise<void> {
    // Reading the clock on every node costs more than the node: every 64 steps is enough.
    if ((++this.steps & 63) !== 0) return;
    const now = Date.now();
    if (now > this.deadline) throw new BudgetExceeded(`evaluation ran longer than its budget of ${this.timeoutMs} ms (mappingLimits.timeoutMs): check for an endless loop or recursion`);
    if (now - this.lastYield >= YIELD_EVERY_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.lastYield = Date.now();
    }
  }
}

/** True when the expression names `$eval` anywhere (called, or passed as a function value). */
function usesEval(node: unknown, depth = 0): boolean {
  if (depth > 1000 || typeof node !== 'object' || node === null) return false;
  if (Array.isArray(node)) return node.some((n) => usesEval(n, depth + 1));
  const n = node as { type?: unknown; value?: unknown };
  if (n.type === 'variable' && n.value === 'eval') return true;
  return Object.values(node).some((v) => usesEval(v, depth + 1));
}

/**
 * Compiles `source`; throws an Error whose message says what and where when it is not valid
 * JSONata, or when it uses `$eval` (it would evaluate text taken from a message: code injection,
 * and no budget at load time could cover it).
 */
export function compileExpression(source: string, limits: ExpressionLimits = {}): Expression {
  if (PLAIN_NAME.test(source) && !RESERVED.has(source)) {
    const direct = (input: unknown): unknown => (isRecord(input) && Object.prototype.hasOwnProperty.call(input, source) ? input[source] : undefined);
    return { source, evaluate: (input) => Promise.resolve(direct(input)), direct };
  }
  const general = compileJsonata(source, limits);
  const path = FIELD_PATH.test(source) ? fieldPath(source) : undefined;
  if (path === undefined) return general;
  return {
    source,
    direct: path,
    evaluate: (input, bindings) => {
      const value = path(input, bindings);
      return value === NEEDS_JSONATA ? general.evaluate(input, bindings) : Promise.resolve(value);
    },
  };
}

/**
 * A direct reader for `a.b.c` / `$v.b.c`, or undefined when a step is a JSONata keyword. It
 * follows JSONata where the input is plain JSON objects: a missing step, null or a scalar on the
 * way yields undefined; any array (on the way or as the result) and inherited properties are left
 * to JSONata, whose sequence semantics apply there.
 */
function fieldPath(source: string): ((input: unknown, bindings: Bindings) => unknown) | undefined {
  const variable = source.startsWith('$');
  const steps = (variable ? source.slice(1) : source).split('.');
  if (steps.some((step) => RESERVED.has(step))) return undefined;
  if (variable && steps[0] === BUDGET) return undefined;
  return (input, bindings) => {
    let value: unknown;
    let from = 0;
    if (variable) {
      // A name that is not a binding may be a JSONata built-in ($string ...): JSONata decides.
      if (!Object.prototype.hasOwnProperty.call(bindings, steps[0]!)) return NEEDS_JSONATA;
      value = bindings[steps[0]!];
      from = 1;
    } else {
      value = input;
    }
    for (let i = from; i < steps.length; i++) {
      if (value === undefined || value === null || typeof value !== 'object') return undefined;
      if (Array.isArray(value)) return NEEDS_JSONATA;
      const step = steps[i]!;
      if (!Object.prototype.hasOwnProperty.call(value, step)) return step in value ? NEEDS_JSONATA : undefined;
      value = (value as Record<string, unknown>)[step];
    }
    return Array.isArray(value) || typeof value === 'function' ? NEEDS_JSONATA : value;
  };
}

function compileJsonata(source: string, limits: ExpressionLimits): Expression {
  const timeoutMs = limits.timeoutMs ?? DEFAULT_EXPRESSION_LIMITS.timeoutMs;
  const maxDepth = limits.maxDepth ?? DEFAULT_EXPRESSION_LIMITS.maxDepth;
  let compiled: jsonata.Expression;
  try {
    // jsonata 2.x guardrails: `stack` bounds the evaluation depth, `timeout` is checked per step;
    // the entry hook below adds yielding so a long evaluation never starves heartbeats.
    compiled = jsonata(source, { stack: maxDepth, timeout: timeoutMs });
  } catch (err) {
    throw new Error(`invalid JSONata expression ${JSON.stringify(source)}: ${jsonataMessage(err)}`);
  }
  if (usesEval(compiled.ast())) throw new Error(`$eval is not allowed in mappings (it evaluates text from the message): ${JSON.stringify(source)}`);
  compiled.assign(Symbol.for('jsonata.__evaluate_entry') as unknown as string, async (_expr: unknown, _input: unknown, env: { lookup(name: string): unknown }) => {
    const budget = env.lookup(BUDGET);
    if (budget instanceof Budget) await budget.step();
  });
  return { source, evaluate: (input, bindings) => compiled.evaluate(input, { ...bindings, [BUDGET]: new Budget(timeoutMs) }) as Promise<unknown> };
}

// JSONata keywords and literals that look like plain names but are not field reads.
const RESERVED = new Set(['true', 'false', 'null', 'and', 'or', 'in', 'function']);

/** The message of a JSONata error (they are plain objects with code and position, not always Errors). */
export function jsonataMessage(err: unknown): string {
  if (isRecord(err) || err instanceof Error) {
    const e = err as { message?: unknown; code?: unknown; position?: unknown };
    const message = typeof e.message === 'string' ? e.message : String(err);
    const code = typeof e.code === 'string' ? ` [${e.code}${typeof e.position === 'number' ? ` at ${e.position}` : ''}]` : '';
    return `${message}${code}`;
  }
  return String(err);
}
