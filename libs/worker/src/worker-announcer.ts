import type { Bus } from '@weft/bus';
import { type AnnouncedAction, SUBJECTS, type WorkerAnnounce } from '@weft/contracts';
import type { ActionDefinition, ActionLogger } from './action.types';

export interface WorkerAnnouncerOptions {
  bus: Bus;
  workerId: string;
  queues: string[];
  actions: ActionDefinition[];
  /** Between announcements. @default 15000 */
  intervalMs?: number;
  logger: ActionLogger;
}

export const DEFAULT_ANNOUNCE_INTERVAL_MS = 15_000;

/** The catalog entry of an action: name, description, input schema (handlers stay here). */
export function announcedAction(definition: ActionDefinition): AnnouncedAction {
  const action: AnnouncedAction = { name: definition.name };
  if (definition.description !== undefined) action.description = definition.description;
  if (definition.inputSchema !== undefined) action.inputSchema = definition.inputSchema as Record<string, unknown>;
  return action;
}

/**
 * Tells whoever listens on `weft.worker.announce` (the API's action catalog) which
 * queues and actions this worker serves: at start, every interval, and once more when
 * it leaves. Broadcasts are best effort: a lost one is repaired by the next.
 */
export class WorkerAnnouncer {
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;
  private readonly actions: AnnouncedAction[];

  constructor(private readonly options: WorkerAnnouncerOptions) {
    this.intervalMs = options.intervalMs ?? DEFAULT_ANNOUNCE_INTERVAL_MS;
    this.actions = options.actions.map(announcedAction);
  }

  async start(): Promise<void> {
    await this.announce(false);
    this.timer = setInterval(() => void this.announce(false), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.announce(true);
  }

  private async announce(leaving: boolean): Promise<void> {
    const message: WorkerAnnounce = {
      workerId: this.options.workerId,
      queues: this.options.queues,
      actions: this.actions,
      intervalMs: this.intervalMs,
      at: new Date().toISOString(),
      ...(leaving && { leaving }),
    };
    try {
      await this.options.bus.broadcast(SUBJECTS.workerAnnounce, message);
    } catch (error) {
      this.options.logger.debug('could not announce the worker', { error: String(error) });
    }
  }
}
