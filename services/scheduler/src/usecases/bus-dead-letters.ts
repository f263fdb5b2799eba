import { createHash } from 'node:crypto';
import type { DeadLetter } from '@weft/bus';
import type { ExceptionItem, WaitStore } from '../ports/wait-store.port';

/** The id of a bus dead letter's item: `bus:` and a digest of the record (the stream keeps no id of its own). */
export const BUS_ITEM_PREFIX = 'bus:';

/** Which namespace and workflow each run id belongs to (runs the caller may not see are still looked up: the filter is by namespace). */
export type RunOwners = (runIds: readonly string[]) => Promise<Map<string, { namespace: string; workflow: string }>>;

export interface DeadLetterFilter {
  workflow?: string;
  since?: number;
  after?: { at: number; id: string };
  resolved?: boolean;
}

/**
 * Messages the bus dead-lettered on delivery (`weft.deadletter.*`: a payload that breaks its
 * contract, a handler that gave up) as `dead-letter` items of the exception queue. A record has
 * no namespace of its own: it belongs to the namespace of the run its payload names (`runId`),
 * else to the one its payload names (`namespace`); a record naming neither is listed nowhere.
 * The bus keeps the last 1000 records (Bus.deadLetters); resolutions live with the others.
 */
export class BusDeadLetters {
  /** The last read of the bus (JetStream reads each record with its own request): reused for CACHE_MS. */
  private cached: { at: number; letters: Promise<DeadLetter[]> } | undefined;

  constructor(
    private readonly bus: { deadLetters(): Promise<DeadLetter[]> },
    private readonly owners: RunOwners,
    private readonly waits: Pick<WaitStore, 'listResolutions'>,
  ) {}

  /** The namespace's items matching the filter, oldest first. */
  async items(namespace: string, filter: DeadLetterFilter): Promise<ExceptionItem[]> {
    const letters = (await this.read()).map(parse);
    const owners = await this.owners([...new Set(letters.flatMap((l) => (l.runId === undefined ? [] : [l.runId])))]);
    const mine: ExceptionItem[] = [];
    for (const letter of letters) {
      const owner = letter.runId === undefined ? undefined : owners.get(letter.runId);
      if ((owner?.namespace ?? letter.namespace) !== namespace) continue;
      const item: ExceptionItem = {
        kind: 'dead-letter',
        id: letter.id,
        workflow: owner?.workflow ?? letter.workflow ?? '',
        runId: letter.runId ?? '',
        summary: `${letter.record.subject}: ${letter.record.reason} (${letter.record.deliveryCount} deliveries)`,
        at: Date.parse(letter.record.at),
      };
      if (letter.stepId !== undefined) item.stepId = letter.stepId;
      if (filter.workflow !== undefined && item.workflow !== filter.workflow) continue;
      if (filter.since !== undefined && item.at < filter.since) continue;
      const after = filter.after;
      if (after !== undefined && !(item.at > after.at || (item.at === after.at && item.id > after.id))) continue;
      mine.push(item);
    }
    const resolutions = await this.waits.listResolutions(namespace, 'dead-letter', mine.map((i) => i.id));
    return mine
      .map((item) => {
        const resolved = resolutions.get(item.id);
        return resolved === undefined ? item : { ...item, resolved };
      })
      .filter((item) => filter.resolved === true || item.resolved === undefined)
      .sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  private read(): Promise<DeadLetter[]> {
    const now = performance.now();
    if (this.cached === undefined || now - this.cached.at > CACHE_MS) {
      const letters = this.bus.deadLetters();
      this.cached = { at: now, letters };
      // A failed read is not kept: the next call asks again.
      letters.catch(() => {
        if (this.cached?.letters === letters) this.cached = undefined;
      });
    }
    return this.cached.letters;
  }
}

/** How long one read of the bus's dead letters answers the exception queue. */
const CACHE_MS = 2_000;

interface ParsedLetter {
  id: string;
  record: DeadLetter;
  runId?: string;
  stepId?: string;
  namespace?: string;
  workflow?: string;
}

function parse(record: DeadLetter): ParsedLetter {
  const id = `${BUS_ITEM_PREFIX}${createHash('sha256').update(`${record.subject}\n${record.at}\n${record.payload}`).digest('hex').slice(0, 24)}`;
  const letter: ParsedLetter = { id, record };
  let payload: unknown;
  try {
    payload = JSON.parse(record.payload);
  } catch {
    return letter;
  }
  if (typeof payload !== 'object' || payload === null) return letter;
  const field = (name: string): string | undefined => {
    const value = (payload as Record<string, unknown>)[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const runId = field('runId');
  const stepId = field('stepId');
  const namespace = field('namespace');
  const workflow = field('workflow');
  if (runId !== undefined) letter.runId = runId;
  if (stepId !== undefined) letter.stepId = stepId;
  if (namespace !== undefined) letter.namespace = namespace;
  if (workflow !== undefined) letter.workflow = workflow;
  return letter;
}
