import { parseDuration, type PollConfigSpec, TRIGGER_DEFAULTS } from '@weft/core';
import { occurrenceId } from '../domain/fire-log';
import { DEFAULT_SEEN_CAPACITY, isTransientStatus, newKeys, nextPollDelay, parseRetryAfter } from '../domain/poll.util';
import { extractPollPage, renderPollUrl, type PollPage } from '../domain/trigger-expr.util';
import type { SqlTriggerStore } from '../persistence/sql-trigger.store';
import type { Clock } from '../ports/clock.port';
import type { PollFetch, PollResponse } from '../ports/http-fetch.port';
import { refOf, type TriggerDefinition } from '../ports/trigger.types';
import type { TriggersLogger } from '../ports/triggers-logger.port';
import type { OccurrenceResult, RecordOccurrenceUseCase } from './record-occurrence.usecase';

const POLL_TIMEOUT_MS = 10_000;

export class PollError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'PollError';
  }
}

/** Header values: literal, or `{ env }` read from the service's environment. */
export function resolveHeaders(headers: PollConfigSpec['headers'], env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (typeof value === 'string') out[name] = value;
    else {
      const v = env[value.env];
      if (v === undefined) throw new PollError(`header ${name}: environment variable ${value.env} is not set`);
      out[name] = v;
    }
  }
  return out;
}

/**
 * The leader's poll pass: each due poll trigger is fetched once; every item with a key not
 * seen before is an occurrence (its key is the occurrence, so it starts at most one run),
 * and the cursor, the seen keys and the fires commit together. Errors back off; Retry-After
 * is honoured.
 */
export class PollUseCase {
  constructor(
    private readonly store: SqlTriggerStore,
    private readonly occurrences: RecordOccurrenceUseCase,
    private readonly fetch: PollFetch,
    private readonly clock: Clock,
    private readonly log: TriggersLogger,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  async pass(): Promise<number> {
    let fired = 0;
    for (const def of await this.store.definitions(undefined, { active: true })) {
      if (def.kind !== 'poll' || def.paused || !def.spec.poll) continue;
      const state = await this.store.polling.pollState(this.store.dataSource, refOf(def));
      if (state && state.nextPollAt > this.clock.now()) continue;
      try {
        fired += (await this.pollOnce(def)).filter((r) => r.outcome === 'fired').length;
      } catch (error) {
        this.log.warn('poll failed', { trigger: `${def.workflow}/${def.triggerId}`, error: String(error) });
      }
    }
    return fired;
  }

  /** Fetches one page (what `POST .../test` does for a poll trigger, without recording). */
  async fetchPage(def: TriggerDefinition, cursor: unknown): Promise<{ response: PollResponse; page: PollPage }> {
    const poll = def.spec.poll;
    if (!poll) throw new PollError('not a poll trigger');
    const response = await this.fetch(renderPollUrl(poll.url, cursor), resolveHeaders(poll.headers, this.env), POLL_TIMEOUT_MS);
    if (response.status >= 400) {
      const retryAfter = parseRetryAfter(response.headers['retry-after'], this.clock.now());
      throw new PollError(`the server answered ${response.status}${isTransientStatus(response.status) ? '' : ' (not transient: check the trigger)'}`, retryAfter);
    }
    return { response, page: extractPollPage({ items: poll.items, key: poll.key, ...(poll.cursor === undefined ? {} : { cursor: poll.cursor }) }, response, cursor) };
  }

  async pollOnce(def: TriggerDefinition): Promise<OccurrenceResult[]> {
    const poll = def.spec.poll;
    if (!poll) return [];
    const ref = refOf(def);
    const everyMs = parseDuration(poll.every);
    const state = await this.store.polling.pollState(this.store.dataSource, ref);
    const cursor = state?.cursor;
    let fetched: { response: PollResponse; page: PollPage };
    try {
      fetched = await this.fetchPage(def, cursor);
    } catch (error) {
      const failures = (state?.failures ?? 0) + 1;
      const retryAfterMs = error instanceof PollError ? error.retryAfterMs : undefined;
      const delay = nextPollDelay({ everyMs, consecutiveFailures: failures, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
      await this.store.polling.savePollState(this.store.dataSource, ref, { cursor, failures, nextPollAt: this.clock.now() + delay, lastError: String(error).slice(0, 500) });
      throw error;
    }
    const { response, page } = fetched;
    const keys = page.items.map((i) => occurrenceId(i.key));
    const seen = await this.store.polling.seenKeys(this.store.dataSource, ref, keys);
    const fresh = new Set(newKeys(keys, (k) => seen.has(k)));
    const items = page.items.filter((_, i) => fresh.has(keys[i]) && (fresh.delete(keys[i]) || true));
    const nextCursor = page.cursor === undefined ? cursor : page.cursor;
    return this.occurrences.recordMany(
      items.map((i) => ({ def, occurrence: occurrenceId(i.key), context: { item: i.item, response, cursor }, expressions: true })),
      async (tx) => {
        await this.store.polling.rememberKeys(tx, ref, items.map((i) => occurrenceId(i.key)), poll.seen ?? DEFAULT_SEEN_CAPACITY ?? TRIGGER_DEFAULTS.seen);
        await this.store.polling.savePollState(tx, ref, { cursor: nextCursor, failures: 0, nextPollAt: this.clock.now() + nextPollDelay({ everyMs, consecutiveFailures: 0 }) });
      },
    );
  }
}
