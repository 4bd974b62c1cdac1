/** One problem found in configuration: where (`path`, and the file position when known) and what. */
export interface ConfigIssue {
  /** Config path such as `systems.crm.tables[2].key`, or an environment variable name. */
  readonly path: string;
  readonly message: string;
  /** 1-based position in the source file, when the problem can be located there. */
  readonly line?: number;
  readonly column?: number;
}

/**
 * Thrown when configuration (pipeline file, environment, secret reference) is invalid. Lists every
 * problem found, one line each, so a single boot attempt shows all of them.
 */
export class ConfigValidationError extends Error {
  override readonly name = 'ConfigValidationError';
  readonly issues: readonly ConfigIssue[];

  /**
   * @param title what was being validated, e.g. `Invalid pipeline file ./pipeline.yaml`
   * @param source file name used to render positions, when issues carry them
   */
  constructor(title: string, issues: readonly ConfigIssue[], source?: string) {
    super(formatMessage(title, issues, source));
    this.issues = Object.freeze(issues.map((issue) => Object.freeze({ ...issue })));
  }
}

function formatMessage(title: string, issues: readonly ConfigIssue[], source: string | undefined): string {
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
  const lines = issues.map((issue) => `  ${formatIssue(issue, source)}`);
  return [`${title} (${count}):`, ...lines].join('\n');
}

function formatIssue(issue: ConfigIssue, source: string | undefined): string {
  const position =
    issue.line === undefined
      ? undefined
      : `${source ?? 'line'}:${issue.line}${issue.column === undefined ? '' : `:${issue.column}`}`;
  if (issue.path === '') {
    return position === undefined ? issue.message : `${position}: ${issue.message}`;
  }
  return position === undefined
    ? `${issue.path}: ${issue.message}`
    : `${issue.path}: ${issue.message} (${position})`;
}

/** A config path as segments: strings are object/map keys, numbers are array indices. */
export type PathSegments = readonly (string | number)[];

/** Renders segments as `a.b[2].c`. */
export function formatPath(segments: PathSegments): string {
  let path = '';
  for (const segment of segments) {
    if (typeof segment === 'number') {
      path += `[${segment}]`;
    } else {
      path += path === '' ? segment : `.${segment}`;
    }
  }
  return path === '' ? '(root)' : path;
}
