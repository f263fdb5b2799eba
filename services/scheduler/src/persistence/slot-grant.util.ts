/**
 * Which queued requests get a slot: while a key has fewer holders than its limit, its next
 * request (the list is in (priority, request time) order) goes, one key after another in turns,
 * so one busy key cannot starve the others. Pure.
 */
export function pickGrants<R extends { key: string; limit: number }>(queued: readonly R[], held: ReadonlyMap<string, number>): R[] {
  const byKey = new Map<string, R[]>();
  for (const r of queued) {
    const list = byKey.get(r.key);
    if (list) list.push(r);
    else byKey.set(r.key, [r]);
  }
  const count = new Map(held);
  const picked: R[] = [];
  for (let granted = true; granted; ) {
    granted = false;
    for (const [key, list] of byKey) {
      const next = list[0];
      if (next === undefined) continue;
      if ((count.get(key) ?? 0) >= next.limit) {
        byKey.delete(key);
        continue;
      }
      list.shift();
      count.set(key, (count.get(key) ?? 0) + 1);
      picked.push(next);
      granted = true;
    }
  }
  return picked;
}

/** What a request over its key's limit does (a workflow limit's strategy). */
export type SlotStrategy = 'queue' | 'cancel-in-progress' | 'cancel-newest';

/**
 * Applies the cancel strategies before the grants (docs/flow-control.md): under
 * `cancel-newest` a request that finds its key full is refused (its run is canceled); under
 * `cancel-in-progress` the newest `limit` requests of a key win: older queued ones are refused
 * and the oldest holders are evicted to make room. `holders` are a key's holder tokens, oldest
 * first. Returns what to grant (pickGrants then orders it), what to refuse and whom to evict. Pure.
 */
export function applyStrategies<R extends { token: string; key: string; limit: number; strategy?: SlotStrategy }>(
  queued: readonly R[],
  holders: ReadonlyMap<string, readonly string[]>,
): { queued: R[]; refused: R[]; evicted: string[]; held: Map<string, number> } {
  const held = new Map([...holders].map(([key, tokens]) => [key, tokens.length]));
  const refused: R[] = [];
  const evicted: string[] = [];
  const byKey = new Map<string, R[]>();
  for (const r of queued) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
  const keep: R[] = [];
  for (const [key, list] of byKey) {
    const strategy = list[0]?.strategy ?? 'queue';
    const limit = list[0]?.limit ?? 1;
    const holding = held.get(key) ?? 0;
    if (strategy === 'cancel-newest') {
      const room = Math.max(0, limit - holding);
      keep.push(...list.slice(0, room));
      refused.push(...list.slice(room));
    } else if (strategy === 'cancel-in-progress') {
      const winners = list.slice(-limit);
      refused.push(...list.slice(0, list.length - winners.length));
      const over = Math.max(0, holding + winners.length - limit);
      const gone = (holders.get(key) ?? []).slice(0, over);
      evicted.push(...gone);
      held.set(key, holding - gone.length);
      keep.push(...winners);
    } else keep.push(...list);
  }
  // Back in the order they came (priority, request time): pickGrants goes round-robin over it.
  const order = new Map(queued.map((r, i) => [r.token, i]));
  keep.sort((a, b) => (order.get(a.token) ?? 0) - (order.get(b.token) ?? 0));
  return { queued: keep, refused, evicted, held };
}

/** Why a refused request's run is canceled. */
export const refusedReason = (r: { key: string; limit: number; strategy?: SlotStrategy }): string =>
  r.strategy === 'cancel-in-progress'
    ? `a newer run took its place for a concurrency slot of key ${JSON.stringify(r.key)} (cancel-in-progress)`
    : `over the concurrency limit of ${r.limit} for key ${JSON.stringify(r.key)} (cancel-newest)`;

/** Why an evicted holder's run is canceled. */
export const evictedReason = (key: string): string => `a newer run took its concurrency slot of key ${JSON.stringify(key)} (cancel-in-progress)`;
