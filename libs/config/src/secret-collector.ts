import type { TlsConfig } from './pipeline.types';
import { resolveSecret, type EnvSource, type Secret, type SecretRef } from './secret';
import { ConfigValidationError, type ConfigIssue } from './validation-error';

/** TLS material read from its references. PEM text; the private key stays a Secret. */
export interface ResolvedTls {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: Secret;
  readonly rejectUnauthorized: boolean;
}

// Resolves many secret references and keeps going after a failure, so one error lists every
// missing variable and unreadable file.
export class SecretCollector {
  private readonly issues: ConfigIssue[] = [];

  constructor(private readonly env: EnvSource) {}

  read(ref: SecretRef | undefined, path: string): Secret | undefined {
    if (ref === undefined) return undefined;
    try {
      return resolveSecret(ref, path, this.env);
    } catch (error: unknown) {
      if (!(error instanceof ConfigValidationError)) throw error;
      this.issues.push(...error.issues);
      return undefined;
    }
  }

  /** undefined when TLS is disabled. */
  readTls(tls: TlsConfig, path: string): ResolvedTls | undefined {
    if (!tls.enabled) return undefined;
    // CA and certificate are public material; handing them on as text keeps drivers simple.
    const ca = this.read(tls.ca, `${path}.ca`)?.reveal();
    const cert = this.read(tls.cert, `${path}.cert`)?.reveal();
    const key = this.read(tls.key, `${path}.key`);
    return {
      ...(ca !== undefined && { ca }),
      ...(cert !== undefined && { cert }),
      ...(key !== undefined && { key }),
      rejectUnauthorized: tls.rejectUnauthorized,
    };
  }

  report(issue: ConfigIssue): void {
    this.issues.push(issue);
  }

  throwIfAny(title: string): void {
    if (this.issues.length > 0) throw new ConfigValidationError(title, this.issues);
  }
}
