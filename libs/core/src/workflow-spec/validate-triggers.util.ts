import { checkCondition, checkSingleExpression, checkTemplate, type ExprMemo } from '../expr';
import { DiagnosticCode, type DiagnosticSink, type SpecPath } from './diagnostic.util';
import { DurationError, parseDuration } from './duration.util';
import { MIN_EVERY_MS, parseSchedule, ScheduleError } from './schedule.util';
import { reportExprProblems, walkStrings } from './spec-strings.util';
import { type TriggerSpec } from './triggers.schema';

const HMAC_ONLY = ['header', 'encoding', 'timestampHeader', 'idHeader'] as const;

/**
 * The checks of `triggers:` a schema cannot express: unique ids, schedules and time zones,
 * durations, and every CEL expression (trigger dialect: trigger, event, item, response, cursor).
 * `inputNames` are the workflow's declared inputs (a trigger input nobody declared is a warning).
 */
export function validateTriggers(triggers: readonly TriggerSpec[] | undefined, inputNames: ReadonlySet<string>, sink: DiagnosticSink): void {
  if (!triggers) return;
  const memo: ExprMemo = new Map();
  const first = new Map<string, number>();
  triggers.forEach((trigger, i) => {
    const at = (...rest: (string | number)[]): SpecPath => ['triggers', i, ...rest];
    const seen = first.get(trigger.id);
    if (seen === undefined) first.set(trigger.id, i);
    else sink.add(at('id'), DiagnosticCode.DuplicateTriggerId, `duplicate trigger id "${trigger.id}" (first declared at triggers[${seen}])`);

    if (trigger.cron !== undefined) {
      try {
        parseSchedule(trigger.cron, trigger.timezone ?? 'UTC');
      } catch (error) {
        if (!(error instanceof ScheduleError)) throw error;
        const path = error.message.includes('time zone') ? at('timezone') : at('cron');
        sink.add(path, DiagnosticCode.InvalidSchedule, error.message, { hint: 'e.g. "0 2 * * *", "*/10 * * * * *", @daily or "@every 30s"' });
      }
    }
    duration(sink, at('catchup'), trigger.catchup);
    duration(sink, at('dedupeWindow'), trigger.dedupeWindow);
    if (trigger.webhook) {
      duration(sink, at('webhook', 'tolerance'), trigger.webhook.tolerance);
      if (trigger.webhook.preset !== 'hmac-sha256') {
        for (const field of HMAC_ONLY) {
          if (trigger.webhook[field] !== undefined) sink.add(at('webhook', field), DiagnosticCode.TriggerField, `webhook.${field} applies to the hmac-sha256 preset only (${trigger.webhook.preset} fixes its own headers)`);
        }
      }
    }
    if (trigger.poll) {
      const every = duration(sink, at('poll', 'every'), trigger.poll.every);
      if (every !== undefined && every < MIN_EVERY_MS) sink.add(at('poll', 'every'), DiagnosticCode.TriggerField, `poll.every is ${trigger.poll.every}; the shortest is 1s`);
      reportExprProblems(sink, checkTemplate(trigger.poll.url, memo, 'trigger'), at('poll', 'url'));
      reportExprProblems(sink, checkSingleExpression(trigger.poll.items, memo, 'trigger'), at('poll', 'items'));
      reportExprProblems(sink, checkSingleExpression(trigger.poll.key, memo, 'trigger'), at('poll', 'key'));
      if (trigger.poll.cursor !== undefined) reportExprProblems(sink, checkSingleExpression(trigger.poll.cursor, memo, 'trigger'), at('poll', 'cursor'));
    }
    if (trigger.filter !== undefined) reportExprProblems(sink, checkCondition(trigger.filter, memo, 'trigger'), at('filter'));
    if (trigger.dedupe !== undefined) reportExprProblems(sink, checkSingleExpression(trigger.dedupe, memo, 'trigger'), at('dedupe'));
    for (const [name, value] of Object.entries(trigger.inputs ?? {})) {
      if (inputNames.size > 0 && !inputNames.has(name)) {
        sink.add(at('inputs', name), DiagnosticCode.InputUnknown, `trigger input "${name}" is not declared under the workflow's inputs`, { severity: 'warning', hint: `declared inputs: ${[...inputNames].join(', ')}` });
      }
      walkStrings(value, at('inputs', name), (text, path) => reportExprProblems(sink, checkTemplate(text, memo, 'trigger'), path));
    }
  });
}

function duration(sink: DiagnosticSink, path: SpecPath, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDuration(text);
  } catch (error) {
    if (!(error instanceof DurationError)) throw error;
    sink.add(path, DiagnosticCode.InvalidDuration, error.message);
    return undefined;
  }
}
