import { parseDuration, TRIGGER_DEFAULTS } from '@weft/core';
import { bodyDigest, verifyWebhook, type WebhookVerifier } from '../domain/webhook.util';
import { TriggersError } from '../domain/triggers.errors';
import type { SqlTriggerStore } from '../persistence/sql-trigger.store';
import type { Clock } from '../ports/clock.port';
import { refOf, type TriggerDefinition, type TriggerRef } from '../ports/trigger.types';
import { recordFireOutcome } from '../runtime/trigger-metrics';
import { parseBody } from './trigger-control.usecase';
import type { OccurrenceResult, RecordOccurrenceUseCase } from './record-occurrence.usecase';

/** The verifier of a webhook trigger; the secret's value comes from the environment at each delivery. */
export function webhookVerifier(def: TriggerDefinition, env: NodeJS.ProcessEnv): WebhookVerifier {
  const hook = def.spec.webhook;
  if (!hook) throw new TriggersError('NOT_SUPPORTED', `${def.triggerId} is not a webhook trigger`);
  return {
    preset: hook.preset,
    secret: env[hook.secret.env] ?? '',
    toleranceMs: parseDuration(hook.tolerance ?? TRIGGER_DEFAULTS.tolerance),
    maxBodyBytes: hook.maxBody ?? TRIGGER_DEFAULTS.maxBody,
    ...(hook.header === undefined ? {} : { header: hook.header }),
    ...(hook.encoding === undefined ? {} : { encoding: hook.encoding }),
    ...(hook.timestampHeader === undefined ? {} : { timestampHeader: hook.timestampHeader }),
    ...(hook.idHeader === undefined ? {} : { idHeader: hook.idHeader }),
  };
}

export type DeliveryOutcome =
  | { accepted: true; result: OccurrenceResult; deliveryId: string }
  | { accepted: false; reason: string; message: string; status: 401 | 413 };

/**
 * A webhook delivery: verified (the signature is the credential), then recorded like any
 * occurrence with its delivery id as the occurrence, so a replay is a duplicate. A refused
 * delivery is logged without claiming its (unverified) id.
 */
export class WebhookUseCase {
  constructor(
    private readonly store: SqlTriggerStore,
    private readonly occurrences: RecordOccurrenceUseCase,
    private readonly clock: Clock,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  async deliver(ref: TriggerRef, headers: Record<string, string>, body: Buffer): Promise<DeliveryOutcome> {
    const def = await this.store.definition(ref);
    if (!def?.active || def.kind !== 'webhook') throw new TriggersError('TRIGGER_NOT_FOUND', `no webhook trigger ${ref.triggerId} on workflow ${ref.workflow}`);
    const verdict = verifyWebhook(webhookVerifier(def, this.env), { headers, body }, this.clock.now());
    if (!verdict.ok) {
      await this.store.transaction((tx) =>
        this.store.recordFire(tx, { ref: refOf(def), kind: 'webhook', occurrence: `refused:${bodyDigest(body)}`, outcome: 'refused', reason: `${verdict.reason}: ${verdict.message}`, claims: false }),
      );
      recordFireOutcome('webhook', 'refused');
      return { accepted: false, reason: verdict.reason, message: verdict.message, status: verdict.reason === 'body-too-large' ? 413 : 401 };
    }
    const event = { headers, body: parseBody(body), deliveryId: verdict.deliveryId };
    const result = await this.occurrences.record({ def, occurrence: verdict.deliveryId, context: { event }, expressions: true });
    return { accepted: true, result, deliveryId: verdict.deliveryId };
  }
}
