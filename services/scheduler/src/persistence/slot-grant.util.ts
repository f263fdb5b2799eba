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
