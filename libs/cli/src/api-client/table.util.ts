import type { Io } from '../io';

/** Left-aligned columns, two spaces apart, for the API verbs' listings. */
export function table(io: Io, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  io.out(line(header));
  for (const row of rows) io.out(line(row));
}

/** A listing: JSON with --json (`json`, else the items), else `empty` when there are none, else a table of one `row` per item. */
export function printList<T>(io: Io, flags: { json?: boolean }, list: { items: readonly T[]; json?: unknown; empty: string; header: string[]; row: (item: T) => string[] }): void {
  if (flags.json) io.out(JSON.stringify(list.json ?? list.items, null, 2));
  else if (list.items.length === 0) io.out(list.empty);
  else table(io, list.header, list.items.map((item) => list.row(item)));
}
