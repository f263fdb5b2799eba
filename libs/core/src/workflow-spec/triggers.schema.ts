import { z } from 'zod';

/**
 * `triggers:` of spec v1: what starts runs of the published version without anyone asking
 * (docs/triggers.md). One object per trigger with exactly one kind field: cron, subject,
 * event, webhook or poll. Kept apart from spec.schema.ts, which imports it.
 */

/** The same pattern as spec.schema's DURATION_PATTERN (a cycle-free copy; a spec checks they agree). */
export const TRIGGER_DURATION_PATTERN = '^(\\d+(ms|s|m|h|d))+$';
const Duration = z
  .string()
  .regex(new RegExp(TRIGGER_DURATION_PATTERN), { message: 'expected a duration such as 500ms, 30s, 5m, 2h or 1h30m' })
  .describe('A duration: digits followed by ms, s, m, h or d; parts may be combined (1h30m).');

export const TRIGGER_KIND_FIELDS = ['cron', 'subject', 'event', 'webhook', 'poll'] as const;
export type TriggerKindField = (typeof TRIGGER_KIND_FIELDS)[number];

/** What an omitted trigger field means; the service applies these and docs/triggers.md quotes them. */
export const TRIGGER_DEFAULTS = {
  timezone: 'UTC',
  overlap: 'skip',
  catchup: '0s',
  dedupeWindow: '24h',
  tolerance: '5m',
  maxBody: 1_048_576,
  seen: 10_000,
} as const;

export const TRIGGER_ID_PATTERN = '^[a-z0-9][a-z0-9_-]*$';
/** A NATS subject: dot-separated tokens, `*` for one token and a final `>` for the rest. */
export const NATS_SUBJECT_PATTERN = '^([^\\s.*>]+|\\*)(\\.([^\\s.*>]+|\\*))*(\\.>)?$|^>$';

export const SecretRef = z
  .object({ env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, { message: 'env names are upper-case letters, digits and _' }).max(128).describe('Variable of the triggers service\'s environment that holds the value.') })
  .strict()
  .describe('A secret read from the triggers service\'s environment; the value is never stored.');

export const OverlapPolicy = z
  .enum(['skip', 'buffer-one', 'buffer-all', 'cancel-other', 'allow'])
  .describe('When a run of this trigger is still active: skip the new occurrence, buffer one (or all) until it ends, cancel the active runs, or allow both.');

const CelTemplate = (what: string) => z.string().min(1).max(4_000).describe(what);
const TriggerInputs = z
  .record(z.string(), z.unknown())
  .describe('Inputs of the run; strings may hold ${{ CEL }} over trigger, event, item (see docs/triggers.md).');

export const WebhookConfig = z
  .object({
    preset: z.enum(['github', 'stripe', 'slack', 'hmac-sha256']).describe('The signature scheme.'),
    secret: SecretRef.describe('The signing secret, from the service\'s environment.'),
    tolerance: Duration.optional().describe('Timestamped schemes (stripe, slack, hmac-sha256 with timestampHeader): older or future deliveries are refused. @default 5m'),
    header: z.string().min(1).max(100).optional().describe('hmac-sha256: the signature header. @default webhook-signature'),
    encoding: z.enum(['hex', 'base64']).optional().describe('hmac-sha256: how the signature is written. @default base64'),
    timestampHeader: z.string().min(1).max(100).optional().describe('hmac-sha256: header with the delivery time in Unix seconds; when set, `<id>.<timestamp>.<body>` is signed (Standard Webhooks).'),
    idHeader: z.string().min(1).max(100).optional().describe('hmac-sha256: header with the delivery id used for dedupe. @default webhook-id'),
    maxBody: z.number().int().min(1).max(10_485_760).optional().describe('Largest body accepted, bytes. @default 1048576'),
  })
  .strict();

export const PollConfig = z
  .object({
    url: z.string().min(1).max(2_000).describe('URL to GET; may hold ${{ cursor }}.'),
    every: Duration.describe('Time between polls (backs off on errors, honours Retry-After).'),
    headers: z.record(z.string(), z.union([z.string().max(4_000), SecretRef])).optional().describe('Request headers; a value may be { env: NAME }.'),
    items: CelTemplate('CEL over `response` ({status, headers, body}) giving the list of items.'),
    key: CelTemplate('CEL over `item` giving its key: each key starts at most one run.'),
    cursor: CelTemplate('CEL over `response` giving the cursor of the next poll (persisted).').optional(),
    seen: z.number().int().min(1).max(1_000_000).optional().describe('Keys remembered (oldest forgotten first). @default 10000'),
  })
  .strict();

const KIND_FIELDS: Readonly<Record<TriggerKindField, readonly string[]>> = {
  cron: ['timezone', 'overlap', 'catchup'],
  subject: ['filter', 'dedupe', 'dedupeWindow'],
  event: ['filter', 'dedupe', 'dedupeWindow'],
  webhook: ['filter'],
  poll: ['filter'],
};

const KIND_SPECIFIC_FIELDS = [...new Set(Object.values(KIND_FIELDS).flat())];

export const Trigger = z
  .object({
    id: z
      .string()
      .max(64)
      .regex(new RegExp(TRIGGER_ID_PATTERN), { message: 'trigger ids are lower-case letters, digits, _ and -, e.g. nightly' })
      .describe('Unique within the workflow; names the trigger in routes, the fire log and idempotency keys.'),
    description: z.string().max(1_000).optional(),
    cron: z.string().min(1).max(200).optional().describe('Schedule: 5 fields (or 6 with seconds first), @hourly, @daily, @weekly, @monthly, @yearly, or @every <duration>.'),
    timezone: z.string().min(1).max(64).optional().describe('cron: IANA time zone of the pattern. A skipped local time fires once at the next valid time; a repeated one fires once. @default UTC'),
    overlap: OverlapPolicy.optional().describe('cron: what a tick does while an earlier run is active. @default skip'),
    catchup: Duration.optional().describe('cron: ticks missed while no service was leading fire when at most this old; older ones are recorded as missed. @default 0s'),
    subject: z.string().min(1).max(256).regex(new RegExp(NATS_SUBJECT_PATTERN), { message: 'expected a NATS subject such as shop.orders.created (wildcards * and a final >)' }).optional().describe('A NATS subject read through a durable JetStream consumer.'),
    event: z.string().min(1).max(200).optional().describe('A Weft signal name (POST /v1/signals).'),
    webhook: WebhookConfig.optional().describe('Signed deliveries to POST /v1/hooks/{namespace}/{workflow}/{id}.'),
    poll: PollConfig.optional().describe('An HTTP endpoint polled for new items.'),
    filter: z.string().min(1).max(4_000).optional().describe('subject, event, webhook, poll: CEL condition (bare or ${{ }}); false records the occurrence as filtered.'),
    dedupe: z.string().min(1).max(4_000).optional().describe('subject, event: CEL key; a second occurrence with the same key within dedupeWindow starts nothing.'),
    dedupeWindow: Duration.optional().describe('subject, event: how long a dedupe key is remembered. @default 24h'),
    inputs: TriggerInputs.optional(),
  })
  .strict()
  .superRefine((trigger, ctx) => {
    const kinds = TRIGGER_KIND_FIELDS.filter((k) => trigger[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: kinds.length === 0 ? 'a trigger needs one of cron, subject, event, webhook or poll' : `a trigger has exactly one of cron, subject, event, webhook or poll (this one has ${kinds.join(' and ')})`,
      });
      return;
    }
    const kind = kinds[0];
    const record = trigger as Record<string, unknown>;
    for (const field of KIND_SPECIFIC_FIELDS) {
      if (record[field] !== undefined && !KIND_FIELDS[kind].includes(field)) {
        ctx.addIssue({ code: 'custom', path: [field], message: `applies to ${kindsWith(field)} triggers, not to ${kind}` });
      }
    }
  });

function kindsWith(field: string): string {
  return TRIGGER_KIND_FIELDS.filter((k) => KIND_FIELDS[k].includes(field)).join(' and ');
}

export const Triggers = z.array(Trigger).max(50).describe('What starts runs of the published version: schedules, NATS subjects, signals, webhooks and polls (docs/triggers.md).');

export type TriggerSpec = z.infer<typeof Trigger>;
export type WebhookConfigSpec = z.infer<typeof WebhookConfig>;
export type PollConfigSpec = z.infer<typeof PollConfig>;
export type SecretRefSpec = z.infer<typeof SecretRef>;

/** The kind of a trigger that passed the schema. */
export function triggerKind(trigger: TriggerSpec): TriggerKindField {
  const kind = TRIGGER_KIND_FIELDS.find((k) => trigger[k] !== undefined);
  if (kind === undefined) throw new Error(`trigger "${trigger.id}" has no kind`);
  return kind;
}
