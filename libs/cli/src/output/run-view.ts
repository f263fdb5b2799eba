import { Actor, actorLabel, type LifecycleEvent } from '@weft/contracts';
import { formatMs, type RunState, type WorkflowSpec } from '@weft/core';
import type { ActionLogger } from '@weft/worker';
import pc from 'picocolors';
import type { Io } from '../io';
import { ITEM_FAILURES_SHOWN, ItemCounter } from './item-counter';

const ICON: Record<string, string> = {
  pending: pc.dim('·'),
  queued: pc.dim('○'),
  running: pc.cyan('▶'),
  retrying: pc.yellow('↻'),
  waiting: pc.magenta('⏸'),
  completed: pc.green('✓'),
  failed: pc.red('✗'),
  skipped: pc.dim('⤼'),
  canceled: pc.yellow('⊘'),
  partially_completed: pc.yellow('◐'),
};

export interface RunView {
  onEvent(event: LifecycleEvent): void;
  finish(state: RunState): void;
  /** Action handlers' logs, printed as `[step] message` so they fit the view. */
  logger: ActionLogger;
  /** A line for people (Ctrl-C, warnings), printed above the live table so no redraw hides it. */
  message(line: string): void;
  /** A run joined in progress (`logs -f`): its steps as they are and the time it started. */
  join(state: RunState): void;
}

type Level = keyof ActionLogger;
const LEVEL_COLOUR: Record<Level, (s: string) => string> = { debug: pc.dim, info: (s) => s, warn: pc.yellow, error: pc.red };

function stepLogger(order: InOrder): ActionLogger {
  const at = (level: Level) => (message: string, fields?: Record<string, unknown>) => {
    if (level === 'debug') return;
    const stepId = typeof fields?.stepId === 'string' ? fields.stepId : undefined;
    order.log(stepId, `  ${pc.dim(stepId === undefined ? '' : `[${stepId}] `)}${LEVEL_COLOUR[level](message)}`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/**
 * Keeps action logs in order with the step events: a handler logs as it runs, but its
 * step's `started` event comes later (through the bus), so a step's lines wait until that
 * event has been shown (or the step's end, or the run's).
 */
class InOrder {
  private readonly shown = new Set<string>();
  private readonly held = new Map<string, string[]>();

  constructor(private readonly print: (line: string) => void) {}

  log(stepId: string | undefined, line: string): void {
    if (stepId === undefined || this.shown.has(stepId)) return this.print(line);
    const lines = this.held.get(stepId) ?? [];
    lines.push(line);
    this.held.set(stepId, lines);
  }

  /** After an event was shown: a step that started (or ended) prints what it logged meanwhile. */
  after(event: LifecycleEvent): void {
    if (event.stepId === undefined || event.type === 'step.queued') return;
    this.shown.add(event.stepId);
    this.release(event.stepId);
  }

  flush(): void {
    for (const stepId of [...this.held.keys()]) this.release(stepId);
  }

  private release(stepId: string): void {
    const lines = this.held.get(stepId);
    this.held.delete(stepId);
    for (const line of lines ?? []) this.print(line);
  }
}

/** The terminal's size, asked at each frame (it may change while the run goes). */
export interface ScreenSize {
  rows(): number;
  columns(): number;
}

const processScreen: ScreenSize = { rows: () => process.stdout.rows || 24, columns: () => process.stdout.columns || 80 };

/** Progress as steps start and finish: a live, redrawn table on a terminal; plain lines otherwise. */
export function createRunView(spec: WorkflowSpec, io: Io, options: { live?: boolean; screen?: ScreenSize } = {}): RunView {
  return (options.live ?? io.isTTY) ? new LiveView(spec, io, options.screen ?? processScreen) : new PlainView(io);
}

function describe(event: LifecycleEvent): string | undefined {
  const step = event.stepId ? pc.bold(event.stepId) : '';
  const took = event.durationMs !== undefined ? ` in ${formatMs(event.durationMs)}` : '';
  const err = event.error ? `: ${event.error.code} ${event.error.message}` : '';
  switch (event.type) {
    case 'run.started':
      return `${pc.cyan('▶')} run ${event.runId} (${event.workflow}) started`;
    case 'step.started':
      return `${ICON.running} ${step} started${event.attempt && event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}`;
    case 'step.completed':
      return event.status === 'partially_completed' ? `${ICON.partially_completed} ${step} partially completed${took}${err}` : `${ICON.completed} ${step} completed${took}`;
    case 'step.retrying': {
      const delay = typeof event.data?.delayMs === 'number' ? ` in ${formatMs(event.data.delayMs)}` : '';
      return `${ICON.retrying} ${step} attempt ${event.attempt ?? '?'} failed${err}; retrying${delay}`;
    }
    case 'step.failed':
      return `${ICON.failed} ${step} failed${err}`;
    case 'step.skipped':
      return `${ICON.skipped} ${step} skipped${typeof event.data?.reason === 'string' ? ` (${event.data.reason})` : ''}`;
    case 'step.canceled':
      return `${ICON.canceled} ${step} canceled`;
    case 'step.timed_out':
      return `${ICON.failed} ${step} timed out`;
    case 'step.waiting':
      return `${ICON.waiting} ${step} waiting: ${waitingFor(event.data)}`;
    case 'review.requested':
      if (event.data?.escalated === true || event.data?.overdue === true) return `${ICON.waiting} ${step} review ${event.data.escalated === true ? `escalated to tier ${String(event.data.tier)}` : 'overdue'} (${String(event.data.assignees)})${byActor(event.data)}`;
      return `${ICON.waiting} ${step} waiting for review${typeof event.data?.reviewId === 'string' ? ` ${event.data.reviewId}` : ''}${typeof event.data?.title === 'string' ? `: ${event.data.title}` : ''}`;
    case 'review.decided':
      return `${event.data?.decision === 'reject' ? ICON.failed : ICON.completed} ${step} review decided: ${String(event.data?.decision)}${byActor(event.data)}`;
    case 'run.completed':
    case 'run.partially_completed':
    case 'run.failed':
    case 'run.canceled':
    case 'run.queued':
    case 'run.waiting':
    case 'step.queued':
      return undefined;
  }
}

class PlainView implements RunView {
  readonly logger: ActionLogger;
  private readonly items = new ItemCounter();
  private itemFailures = 0;

  private readonly order: InOrder;

  constructor(private readonly io: Io) {
    this.order = new InOrder((line) => io.out(line));
    this.logger = stepLogger(this.order);
  }

  onEvent(event: LifecycleEvent): void {
    this.show(event);
    this.order.after(event);
  }

  private show(event: LifecycleEvent): void {
    if (this.items.fold(event)) {
      // One line per forEach step (its own events), not one per item: only the first failures.
      if (event.type !== 'step.failed' || ++this.itemFailures > ITEM_FAILURES_SHOWN) return;
    }
    const line = describe(event);
    if (line) this.io.out(`${pc.dim(event.at.slice(11, 23))} ${line}`);
  }

  finish(state: RunState): void {
    this.order.flush();
    this.io.out(summaryLine(state));
    printOutputs(state, this.io);
  }

  message(line: string): void {
    this.io.err(line);
  }

  join(state: RunState): void {
    // A run joined as it starts (run --api follows from its first event) has nothing to say yet.
    const running = Object.values(state.steps).filter((s) => s.item === undefined && s.status !== 'pending' && s.status !== 'queued');
    if (running.length > 0) this.io.out(pc.dim(`  joined at ${running.map((s) => `${s.id} ${s.status}`).join(', ')}`));
  }
}

/** Most lines of the live table, whatever the terminal's height: wider fan-outs get a counter line. */
const MAX_TABLE_LINES = 30;

/** Statuses worth a line of their own in a collapsed table. */
const MOVING = new Set(['running', 'retrying', 'failed', 'waiting']);

class LiveView implements RunView {
  private readonly status = new Map<string, { status: string; attempt: number; since: number; took?: number }>();
  private readonly items = new ItemCounter();
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  private startedAt = Date.now();
  /** Set by finish: the header then shows the run's own duration, not the time the view was up. */
  private tookMs: number | undefined;
  private itemFailures = 0;
  private readonly order: InOrder;
  readonly logger: ActionLogger;

  constructor(
    private readonly spec: WorkflowSpec,
    private readonly io: Io,
    private readonly screen: ScreenSize,
  ) {
    // A log line goes above the table: clear the table, print, redraw below it.
    this.order = new InOrder((line) => this.above(() => this.io.write(`${fit(line, this.screen.columns())}\n`)));
    this.logger = stepLogger(this.order);
    for (const s of spec.steps) this.status.set(s.id, { status: 'pending', attempt: 0, since: Date.now() });
    this.timer = setInterval(() => this.draw(), 100);
    this.timer.unref();
  }

  onEvent(event: LifecycleEvent): void {
    this.show(event);
    this.order.after(event);
  }

  private show(event: LifecycleEvent): void {
    if (this.items.fold(event)) {
      if (event.type === 'step.failed' && ++this.itemFailures <= ITEM_FAILURES_SHOWN) this.printAbove(event);
      return;
    }
    // Retries and failures keep their error: a line above the table, in order with the logs.
    // So do reviews, escalations and decisions (with who decided); a wait is the step's row in the table.
    if (['step.retrying', 'step.failed', 'step.timed_out', 'review.requested', 'review.decided'].includes(event.type)) this.printAbove(event);
    if (!event.stepId) return;
    const current = this.status.get(event.stepId);
    if (!current) return;
    const status = event.type === 'step.timed_out' ? 'failed' : event.status;
    this.status.set(event.stepId, { status, attempt: event.attempt ?? current.attempt, since: Date.now(), took: event.durationMs });
  }

  message(line: string): void {
    this.above(() => this.io.err(line));
  }

  join(state: RunState): void {
    if (state.startedAt !== undefined) this.startedAt = state.startedAt;
    for (const [id, step] of Object.entries(state.steps)) {
      if (step.item !== undefined || !this.status.has(id)) continue;
      this.status.set(id, { status: step.status, attempt: step.attempt, since: step.startedAt ?? Date.now(), took: tookOf(step) });
    }
    this.draw();
  }

  finish(state: RunState): void {
    this.order.flush();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const [id, step] of Object.entries(state.steps)) {
      if (step.item !== undefined) continue;
      this.status.set(id, { status: step.status, attempt: step.attempt, since: Date.now(), took: tookOf(step) });
    }
    if (state.startedAt !== undefined && state.finishedAt !== undefined) this.tookMs = state.finishedAt - state.startedAt;
    this.draw();
    this.drawn = 0;
    for (const step of Object.values(state.steps)) {
      if (step.item !== undefined) continue;
      if (step.status === 'failed' && step.error) this.io.out(fit(`${ICON.failed} ${pc.bold(step.id)}: ${step.error.code} ${step.error.message}`, this.screen.columns()));
    }
    this.io.out(summaryLine(state));
    printOutputs(state, this.io);
  }

  private printAbove(event: LifecycleEvent): void {
    const line = describe(event);
    if (line) this.above(() => this.io.write(`${fit(`  ${line}`, this.screen.columns())}\n`));
  }

  /** Clears the table, prints, and draws it again below (after finish: just prints). */
  private above(print: () => void): void {
    this.clear();
    print();
    if (this.timer) this.draw();
  }

  private clear(): void {
    // Up to the table's first line, then erase from there to the end of the screen.
    if (this.drawn > 0) this.io.write(`\x1b[${this.drawn}A\r\x1b[0J`);
    this.drawn = 0;
  }

  private draw(): void {
    const columns = this.screen.columns();
    // The frame must fit the screen: a cursor cannot move up past its top, and those lines would stay.
    const room = Math.max(3, Math.min(this.screen.rows() - 2, MAX_TABLE_LINES));
    const took = this.tookMs ?? Date.now() - this.startedAt;
    const lines: string[] = [`${pc.bold(this.spec.name)} ${pc.dim(formatMs(took))}`];
    const entries = [...this.status.entries()];
    const counts = new Map<string, number>();
    for (const [, s] of entries) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
    // A wide workflow: the steps that are moving, then one counter line for all of them.
    const collapsed = entries.length > room - 1;
    const shown = collapsed ? entries.filter(([, s]) => MOVING.has(s.status)).slice(0, room - 2) : entries;
    for (const [id, s] of shown) {
      const time = s.status === 'running' ? formatMs(Date.now() - s.since) : s.took !== undefined ? formatMs(s.took) : '';
      const items = this.items.label(id);
      const attempt = s.attempt > 1 && items === undefined ? pc.yellow(` attempt ${s.attempt}`) : '';
      lines.push(`  ${ICON[s.status] ?? '?'} ${id.padEnd(24)} ${pc.dim(s.status.padEnd(10))} ${time}${attempt}${items === undefined ? '' : pc.dim(` ${items}`)}`);
    }
    if (collapsed) lines.push(pc.dim(`  ${entries.length} steps: ${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')}`));
    const up = this.drawn > 0 ? `\x1b[${this.drawn}A\r` : '';
    this.io.write(`${up}\x1b[0J${lines.map((l) => fit(l, columns)).join('\n')}\n`);
    this.drawn = lines.length;
  }
}

/** A step's time from its first attempt's start to its end. */
function tookOf(step: RunState['steps'][string]): number | undefined {
  return step.startedAt !== undefined && step.finishedAt !== undefined ? step.finishedAt - (step.attempts[0]?.startedAt ?? step.startedAt) : undefined;
}

/**
 * Cuts a line to fewer visible characters than the terminal is wide (colour codes kept,
 * not counted): a wrapped line would take two rows and the redraw would miss one.
 */
export function fit(line: string, columns: number): string {
  const max = Math.max(10, columns - 1);
  let visible = 0;
  let out = '';
  for (let i = 0; i < line.length; i++) {
    const escape = line[i] === '\x1b' ? /^\x1b\[[0-9;]*[A-Za-z]/.exec(line.slice(i))?.[0] : undefined;
    if (escape !== undefined) {
      out += escape;
      i += escape.length - 1;
      continue;
    }
    if (visible === max) return `${out.slice(0, -1)}…\x1b[0m`;
    out += line[i];
    visible++;
  }
  return out;
}

function printOutputs(state: RunState, io: Io): void {
  if (!state.outputs || Object.keys(state.outputs).length === 0) return;
  io.out(pc.bold('outputs:'));
  for (const [name, value] of Object.entries(state.outputs)) {
    const text = JSON.stringify(value);
    io.out(`  ${name}: ${text.length > 200 ? `${text.slice(0, 197)}...` : text}`);
  }
}

function summaryLine(state: RunState): string {
  const took = state.startedAt !== undefined && state.finishedAt !== undefined ? ` in ${formatMs(state.finishedAt - state.startedAt)}` : '';
  const counts = new Map<string, number>();
  for (const step of Object.values(state.steps)) if (step.item === undefined) counts.set(step.status, (counts.get(step.status) ?? 0) + 1);
  const detail = [...counts].map(([k, v]) => `${v} ${k}`).join(', ');
  const colour = state.status === 'completed' ? pc.green : state.status === 'canceled' || state.status === 'partially_completed' ? pc.yellow : pc.red;
  const error = state.error ? ` — ${state.error.code}: ${state.error.message}` : '';
  return `${colour(`run ${state.status}`)}${took} (${detail})${error}`;
}

/** ` by <name> (<key id>)` or ` by local`, then `: <comment>`: who decided or escalated a review. */
function byActor(data: Record<string, unknown> | undefined): string {
  const actor = Actor.safeParse(data?.['actor']);
  return `${actor.success ? ` by ${actorLabel(actor.data)}` : ''}${typeof data?.['comment'] === 'string' ? `: ${data['comment']}` : ''}`;
}

/** What a step.waiting event's step waits for, in a few words. */
function waitingFor(data: Record<string, unknown> | undefined): string {
  if (data?.['wait'] === 'sleep') return `sleeping until ${String(data['until'])}`;
  if (data?.['wait'] === 'child') return `for child run ${String(data['childRunId'])} (${String(data['workflow'])})`;
  if (data?.['wait'] === 'slot') return `for a concurrency slot of key ${JSON.stringify(data['key'])} (limit ${String(data['limit'])})`;
  if (data?.['wait'] === 'rate') return `for a rate-limit permit of key ${JSON.stringify(data['key'])} (${String(data['limit'])} per ${String(data['periodMs'])}ms)`;
  return `for signal ${String(data?.['event'])}`;
}
