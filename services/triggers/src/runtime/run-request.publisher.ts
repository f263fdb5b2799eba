import type { Bus } from '@weft/bus';
import { SpanStatusCode } from '@opentelemetry/api';
import type { RunRequested } from '@weft/contracts';
import { tracer } from '@weft/telemetry';
import type { SqlTriggerStore } from '../persistence/sql-trigger.store';
import type { TriggersLogger } from '../ports/triggers-logger.port';

/** How long a fired row may stay unpublished before the relay takes it over from its committer. */
const RELAY_MIN_AGE_MS = 2_000;
const RELAY_BATCH = 100;

/**
 * Publishes the run requests of fired rows: right after their transaction commits, and by a
 * relay for rows whose committer died before publishing. The idempotency key is the message
 * id (the broker drops a second publish within its window) and the scheduler's unique key.
 */
export class RunRequestPublisher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: SqlTriggerStore,
    private readonly bus: Bus,
    private readonly log: TriggersLogger,
    private readonly relayEveryMs = 1_000,
  ) {}

  /** After commit: publish these rows' requests; a failure is left to the relay. */
  async publishCommitted(rows: { id: string; request: RunRequested }[]): Promise<void> {
    const done: string[] = [];
    for (const row of rows) {
      try {
        await this.publishOne(row.request);
        done.push(row.id);
      } catch (error) {
        this.log.warn('run request not published; the relay will retry', { idempotencyKey: row.request.idempotencyKey, error: String(error) });
      }
    }
    await this.store.markPublished(done).catch((error: unknown) => this.log.warn('published rows not marked; the relay will publish them again (deduplicated)', { error: String(error) }));
  }

  /** One request under its fire's span: the run's trace (the scheduler continues the message's) is its child. */
  private publishOne(request: RunRequested): Promise<void> {
    return tracer().startActiveSpan(
      `trigger fire ${request.workflow}`,
      { attributes: { 'weft.workflow': request.workflow, 'weft.trigger.source': request.source ?? '', 'weft.idempotency_key': request.idempotencyKey, 'weft.run_id': request.runId ?? '' } },
      async (span) => {
        try {
          await this.bus.publish('weft.run.requested', request, { msgId: request.idempotencyKey });
        } catch (error) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }

  start(): void {
    const loop = (): void => {
      this.running = this.relayOnce()
        .then(() => undefined)
        .catch((error: unknown) => this.log.warn('outbox relay pass failed', { error: String(error) }))
        .finally(() => {
          if (this.timer !== undefined) this.timer = setTimeout(loop, this.relayEveryMs);
        });
    };
    this.timer = setTimeout(loop, this.relayEveryMs);
  }

  async stop(): Promise<void> {
    const timer = this.timer;
    this.timer = undefined;
    if (timer) clearTimeout(timer);
    await this.running;
  }

  /** One relay pass: publishes rows older than RELAY_MIN_AGE_MS still unpublished. */
  async relayOnce(): Promise<number> {
    return this.store.transaction(async (tx) => {
      const rows = await this.store.unpublished(tx, RELAY_BATCH, RELAY_MIN_AGE_MS);
      const done: string[] = [];
      for (const row of rows) {
        await this.publishOne(row.request);
        done.push(row.id);
      }
      await this.store.markPublished(done, tx);
      return done.length;
    });
  }
}
