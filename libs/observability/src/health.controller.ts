import { Controller, Get, Header, HttpCode, Inject, Res, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { Response } from 'express';
import { MetricsRegistry } from './metrics';
import { LivenessRegistry } from './liveness.registry';
import { ReadinessRegistry } from './readiness.registry';

const CHECK_TIMEOUT_MS = 3000;

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

@Controller()
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(ReadinessRegistry) private readonly readiness: ReadinessRegistry,
    @Inject(MetricsRegistry) private readonly metrics: MetricsRegistry,
    @Inject(LivenessRegistry) private readonly liveness: LivenessRegistry,
  ) {}

  /** The process works (its loops turn): answers from memory, without touching Kafka or any database. */
  @Get('health/live')
  @HttpCode(200)
  live(): { status: 'ok' } {
    const problems = this.liveness.problems();
    if (Object.keys(problems).length > 0) throw new ServiceUnavailableException({ status: 'error', problems });
    return { status: 'ok' };
  }

  /** Start-up finished (first connections made); Kubernetes holds the other probes until then. */
  @Get('health/startup')
  startup(): { status: 'ok' } {
    if (!this.readiness.isStarted()) throw new ServiceUnavailableException({ status: 'starting' });
    return { status: 'ok' };
  }

  /** Ready for traffic: every registered dependency answers; 503 naming each one that does not. */
  @Get('health/ready')
  @HealthCheck()
  ready(): Promise<unknown> {
    const checks = this.readiness.entries().map(([name, check]) => async (): Promise<HealthIndicatorResult> => {
      const indicator = this.indicators.check(name);
      try {
        const problem = await withTimeout(Promise.resolve(check()), CHECK_TIMEOUT_MS, name);
        return problem === undefined ? indicator.up() : indicator.down({ message: problem });
      } catch (err) {
        return indicator.down({ message: err instanceof Error ? err.message : String(err) });
      }
    });
    const started = async (): Promise<HealthIndicatorResult> => {
      const indicator = this.indicators.check('startup');
      return this.readiness.isStarted() ? indicator.up() : indicator.down({ message: 'still starting' });
    };
    return this.health.check([started, ...checks]);
  }

  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  async metricsText(@Res() res: Response): Promise<void> {
    res.setHeader('Content-Type', this.metrics.contentType);
    res.send(await this.metrics.render());
  }
}
