import { randomUUID } from 'node:crypto';
import type { Actor, ReviewDecision } from '@weft/contracts';
import type { RunState } from '@weft/core';
import type Ajv2020 from 'ajv/dist/2020';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import type { FieldProblem } from '../api/http/api.errors';
import type { RunStore } from '../ports/run-store.port';
import type { Page, ReviewQuery, ReviewRecord, WaitStore } from '../ports/wait-store.port';
import type { ApplyEventUseCase } from './apply-event.usecase';
import { cursorOrThrow } from './signals.usecase';
import { WaitError } from './wait.errors';

export interface DecisionRequest {
  decision: ReviewDecision;
  payload?: unknown;
  comment?: string;
}

/** Compiled forms by their JSON text; a workflow's few forms are compiled once. */
const FORM_CACHE_LIMIT = 200;

/**
 * Reviews: list and read them, and decide. A decision is checked here (a correction must
 * satisfy the review's form: 422 with errors[] and nothing changed), then applied through
 * `decide` under the run's lock like any event; the review row records it, with its actor,
 * in the same transaction. Of two concurrent decisions the core applies one; the other
 * answers 409 with the decision that won.
 */
export class ReviewsUseCase {
  /** Made on the first form a decision is checked against: ajv is ~80 modules `weft run` need not load. */
  private ajv: Ajv2020 | undefined;
  private readonly forms = new Map<string, ValidateFunction>();

  constructor(
    private readonly waits: Pick<WaitStore, 'getReview' | 'listReviews'>,
    private readonly runs: Pick<RunStore, 'getRun'>,
    private readonly transitions: Pick<ApplyEventUseCase, 'apply'>,
  ) {}

  list(namespace: string, query: Omit<ReviewQuery, 'after'> & { cursor?: string }): Promise<Page<ReviewRecord>> {
    const { cursor, ...rest } = query;
    return this.waits.listReviews(namespace, { ...rest, ...(cursor !== undefined && { after: cursorOrThrow(cursor) }) });
  }

  async get(namespace: string, id: string): Promise<ReviewRecord> {
    const review = await this.waits.getReview(namespace, id);
    if (!review) throw new WaitError('REVIEW_NOT_FOUND', `no review ${id}`);
    return review;
  }

  async decide(namespace: string, id: string, request: DecisionRequest, actor: Actor): Promise<{ review: ReviewRecord; run: RunState }> {
    const review = await this.get(namespace, id);
    assertOpen(review);
    if (request.decision === 'correct') this.checkCorrection(review, request.payload);
    if (request.decision === 'escalate') await this.checkEscalation(review);
    const decisionId = randomUUID();
    const run = await this.transitions.apply(review.runId, (at) => ({
      type: 'review.decided',
      at,
      stepId: review.stepId,
      reviewId: id,
      decision: request.decision,
      ...(request.decision === 'correct' && { payload: request.payload }),
      ...(request.comment !== undefined && { comment: request.comment }),
      actor,
      decisionId,
      ...(request.decision === 'escalate' && { fromTier: review.tier }),
    }));
    const after = await this.get(namespace, id);
    if (run === undefined) throw new WaitError('REVIEW_CLOSED', `review ${id}: its run is gone`);
    // The review row names the last decision applied to it: this one, or the one that won.
    const won = after.decisionId === decisionId;
    if (!won) {
      assertOpen(after);
      throw new WaitError('REVIEW_CLOSED', `review ${id} could not take the decision (its step no longer waits for it)`);
    }
    return { review: after, run };
  }

  private checkCorrection(review: ReviewRecord, payload: unknown): void {
    if (payload === undefined) {
      throw new WaitError('INVALID_DECISION', 'a correct decision needs a payload (it replaces the output)', { errors: [{ path: 'payload', message: 'required', code: 'required' }] });
    }
    if (review.form === undefined) return;
    const validate = this.compile(review.form);
    if (validate(payload)) return;
    const errors = (validate.errors ?? []).map(fieldProblem);
    throw new WaitError('INVALID_DECISION', `the correction does not satisfy the review's form (${errors.length} problem(s))`, { errors });
  }

  private async checkEscalation(review: ReviewRecord): Promise<void> {
    const state = await this.runs.getRun(review.runId);
    const tiers = state?.plan.find((p) => p.id === review.stepId)?.review?.escalation.length ?? 0;
    if (review.tier >= tiers) throw new WaitError('NO_ESCALATION_TIER', `review ${review.id} is at its last escalation tier (${review.tier} of ${tiers})`);
  }

  private compile(form: Record<string, unknown>): ValidateFunction {
    const text = JSON.stringify(form);
    let validate = this.forms.get(text);
    if (!validate) {
      try {
        if (this.ajv === undefined) {
          // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use: `weft run` need not load ajv
          const { default: Ajv } = require('ajv/dist/2020') as typeof import('ajv/dist/2020');
          this.ajv = new Ajv({ allErrors: true, strict: false });
        }
        validate = this.ajv.compile(form);
      } catch (error) {
        // Validation let the workflow in; a form ajv cannot compile cannot accept any correction.
        throw new WaitError('INVALID_DECISION', `the review's form is not a usable JSON Schema: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (this.forms.size >= FORM_CACHE_LIMIT) this.forms.clear();
      this.forms.set(text, validate);
    }
    return validate;
  }
}

/** An open review passes; a decided one answers 409 with the earlier decision; a closed one 409. */
function assertOpen(review: ReviewRecord): void {
  if (review.status === 'decided') {
    throw new WaitError('REVIEW_DECIDED', `review ${review.id} was already decided: ${review.decision ?? '?'}`, {
      decision: { decision: review.decision ?? null, actor: review.actor ?? null, comment: review.comment ?? null, decidedAt: review.decidedAt === undefined ? null : new Date(review.decidedAt).toISOString() },
    });
  }
  if (review.status === 'canceled') throw new WaitError('REVIEW_CLOSED', `review ${review.id} is closed: its run ended before a decision`);
}

function fieldProblem(error: ErrorObject): FieldProblem {
  const where = error.instancePath.split('/').filter(Boolean).join('.');
  return { path: where === '' ? 'payload' : `payload.${where}`, message: error.message ?? error.keyword, code: error.keyword };
}
