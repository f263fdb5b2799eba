import { createInterface } from 'node:readline/promises';
import { DEFAULT_NAMESPACE, type LifecycleEvent, REVIEW_DECISIONS, type ReviewDecision, WeftError } from '@weft/contracts';
import type { Scheduler } from '@weft/scheduler';
import type { Io } from '../io';

/** `--decide <stepId>=<decision>[:<payload json>]`, parsed. */
export interface PlannedDecision {
  decision: ReviewDecision;
  payload?: unknown;
}

export class DecideFlagError extends WeftError<'INVALID_DECIDE_FLAG'> {
  constructor(message: string) {
    super('INVALID_DECIDE_FLAG', message);
  }
}

/** Parses every `--decide` flag; throws DecideFlagError naming the bad one. */
export function parseDecideFlags(flags: readonly string[]): Map<string, PlannedDecision> {
  const planned = new Map<string, PlannedDecision>();
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw new DecideFlagError(`--decide ${flag}: expected <stepId>=<decision>[:<payload json>]`);
    const stepId = flag.slice(0, eq);
    const rest = flag.slice(eq + 1);
    const colon = rest.indexOf(':');
    const decision = colon < 0 ? rest : rest.slice(0, colon);
    if (!(REVIEW_DECISIONS as readonly string[]).includes(decision)) throw new DecideFlagError(`--decide ${flag}: the decision is one of ${REVIEW_DECISIONS.join(', ')}`);
    const entry: PlannedDecision = { decision: decision as ReviewDecision };
    if (colon >= 0) {
      try {
        entry.payload = JSON.parse(rest.slice(colon + 1)) as unknown;
      } catch {
        throw new DecideFlagError(`--decide ${flag}: the payload after ':' must be JSON`);
      }
    }
    planned.set(stepId, entry);
  }
  return planned;
}

/**
 * Decides the reviews of an embedded run (`weft run`): from `--decide` flags, else by asking on
 * the terminal, else (a script) it says how to decide and ends the run, which could only wait in
 * a process nobody can reach. Decisions are `local` (no API key).
 */
export class EmbeddedReviewDecider {
  private questions: Promise<void> = Promise.resolve();

  constructor(
    private readonly scheduler: Pick<Scheduler, 'reviews' | 'cancelRun'>,
    private readonly planned: Map<string, PlannedDecision>,
    private readonly io: Io,
    private readonly interactive: boolean,
  ) {}

  onEvent(event: LifecycleEvent): void {
    if (event.type !== 'review.requested' || event.stepId === undefined || event.data?.['escalated'] === true) return;
    const reviewId = event.data?.['reviewId'];
    if (typeof reviewId !== 'string') return;
    const title = typeof event.data?.['title'] === 'string' ? event.data['title'] : `review step ${event.stepId}`;
    const stepId = event.stepId;
    const planned = this.planned.get(stepId);
    if (planned) {
      void this.decide(event.runId, reviewId, planned);
      return;
    }
    if (!this.interactive) {
      this.io.err(
        `step ${stepId} waits for a review (${title}, id ${reviewId}). weft run cannot wait without a terminal: give --decide ${stepId}=<${REVIEW_DECISIONS.join('|')}>[:<payload json>], or run it on weft dev (weft workflows run …) and decide with: weft reviews decide ${reviewId} <decision>`,
      );
      void this.scheduler.cancelRun(event.runId, `review of ${stepId} left undecided (no terminal, no --decide)`);
      return;
    }
    this.questions = this.questions.then(() => this.ask(event.runId, reviewId, stepId, title, event.data?.['output']));
  }

  private async ask(runId: string, reviewId: string, stepId: string, title: string, output: unknown): Promise<void> {
    const review = await this.scheduler.reviews?.get(DEFAULT_NAMESPACE, reviewId);
    this.io.err(`\n${title}`);
    this.io.err(`output of ${stepId}: ${JSON.stringify(review?.output ?? output ?? null)}`);
    if (review?.instructions) this.io.err(review.instructions);
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      for (;;) {
        const answer = (await rl.question(`decision (${REVIEW_DECISIONS.join('/')}), correct:<json>: `)).trim();
        const colon = answer.indexOf(':');
        const decision = colon < 0 ? answer : answer.slice(0, colon);
        if (!(REVIEW_DECISIONS as readonly string[]).includes(decision)) continue;
        let payload: unknown;
        if (colon >= 0) {
          try {
            payload = JSON.parse(answer.slice(colon + 1)) as unknown;
          } catch {
            this.io.err('the payload after ":" must be JSON');
            continue;
          }
        }
        if (await this.decide(runId, reviewId, { decision: decision as ReviewDecision, ...(payload !== undefined && { payload }) })) return;
      }
    } finally {
      rl.close();
    }
  }

  /** True when the decision was taken; a refused one is reported (and, from a flag, ends the run). */
  private async decide(runId: string, reviewId: string, planned: PlannedDecision): Promise<boolean> {
    const reviews = this.scheduler.reviews;
    if (!reviews) return false;
    try {
      await reviews.decide(DEFAULT_NAMESPACE, reviewId, { decision: planned.decision, ...(planned.payload !== undefined && { payload: planned.payload }) }, 'local');
      return true;
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      this.io.err(`decision ${planned.decision} on review ${reviewId} refused: ${detail}`);
      for (const problem of problemsOf(error)) this.io.err(`  ${problem.path}: ${problem.message}`);
      if (!this.interactive) void this.scheduler.cancelRun(runId, `decision refused: ${detail}`);
      return false;
    }
  }
}

/** The field problems a refused decision carries (a correction that fails the form). */
function problemsOf(error: unknown): { path: string; message: string }[] {
  if (typeof error !== 'object' || error === null || !('details' in error)) return [];
  const details: unknown = error.details;
  if (typeof details !== 'object' || details === null || !('errors' in details) || !Array.isArray(details.errors)) return [];
  return (details.errors as unknown[]).filter((e): e is { path: string; message: string } => typeof e === 'object' && e !== null && 'path' in e && 'message' in e);
}
