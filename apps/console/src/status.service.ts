import { Inject, Injectable } from '@nestjs/common';
import { Topics } from '@sync/contracts';
import { errorMessage } from '@sync/errors';
import { parsePrometheusText, type PromSample } from '@sync/observability';
import { CONSOLE_CONTEXT, type ConsoleContext } from './console-context';
import { ConsoleFollower } from './console-follower.service';
import { buildStatusReport, pipelineEntities, type AppSource, type StatusReport } from './status-report';

const SCRAPE_TIMEOUT_MS = 3000;
/** Several open pages share one collection per interval instead of each scraping every app. */
const REUSE_MS = 2000;

@Injectable()
export class StatusService {
  private last: { at: number; report: Promise<StatusReport> } | undefined;

  constructor(
    @Inject(CONSOLE_CONTEXT) private readonly ctx: ConsoleContext,
    @Inject(ConsoleFollower) private readonly follower: ConsoleFollower,
  ) {}

  report(): Promise<StatusReport> {
    const now = Date.now();
    if (this.last && now - this.last.at < REUSE_MS) return this.last.report;
    const report = this.collect(new Date(now));
    this.last = { at: now, report };
    report.catch(() => (this.last = undefined));
    return report;
  }

  private async collect(now: Date): Promise<StatusReport> {
    const scraped = await Promise.all(Object.entries(this.ctx.metricsUrls).map(([app, url]) => this.scrape(app, url)));
    const legacyEvents = new Map<string, number>();
    let deadLetters = new Map<string, Map<string, number>>();
    if (this.follower.caughtUp) {
      try {
        for (const { entity, ref } of pipelineEntities(this.ctx.pipeline)) legacyEvents.set(entity, await this.follower.admin.messageCount(Topics.legacy(ref)));
        deadLetters = await this.follower.deadLetters();
      } catch (err) {
        this.ctx.logger.warn({ err: errorMessage(err) }, 'topic figures unavailable');
      }
    }
    return buildStatusReport(this.ctx.pipeline, {
      now,
      caughtUp: this.follower.caughtUp,
      control: this.follower.control,
      phases: this.follower.phases,
      verify: this.follower.verify,
      deadLetters,
      legacyEvents,
      apps: scraped.map((s) => s.source),
      samples: scraped.flatMap((s) => s.samples),
    });
  }

  private async scrape(app: string, base: string): Promise<{ source: AppSource; samples: PromSample[] }> {
    const url = `${base}/metrics`;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      // The apps set an `app` label on every series already; a source named differently keeps its own.
      const samples = parsePrometheusText(await res.text()).map((s) => (s.labels['app'] ? s : { ...s, labels: { ...s.labels, app } }));
      return { source: { app, url, up: true }, samples };
    } catch (err) {
      return { source: { app, url, up: false, error: errorMessage(err) }, samples: [] };
    }
  }
}
