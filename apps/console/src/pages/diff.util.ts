export interface DiffRow {
  left: string | null;
  right: string | null;
  leftNo: number | null;
  rightNo: number | null;
  kind: 'same' | 'removed' | 'added' | 'changed';
}

/** A side-by-side line diff (longest common subsequence); specs are small, so O(n·m) is fine up to the bound. */
export function sideBySide(a: string[], b: string[]): DiffRow[] {
  const MAX = 4_000;
  if (a.length * b.length > MAX * MAX) a = a.slice(0, MAX);
  const n = a.length;
  const m = b.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    const row = lcs[i] as Uint32Array;
    const next = lcs[i + 1] as Uint32Array;
    for (let j = m - 1; j >= 0; j--) row[j] = a[i] === b[j] ? (next[j + 1] ?? 0) + 1 : Math.max(next[j] ?? 0, row[j + 1] ?? 0);
  }
  const rows: DiffRow[] = [];
  let i = 0;
  let j = 0;
  const removed: DiffRow[] = [];
  const added: DiffRow[] = [];
  const pair = (): void => {
    // Removed and added runs next to each other show as changed lines side by side.
    const k = Math.max(removed.length, added.length);
    for (let x = 0; x < k; x++) {
      const r = removed[x];
      const d = added[x];
      rows.push({ left: r?.left ?? null, leftNo: r?.leftNo ?? null, right: d?.right ?? null, rightNo: d?.rightNo ?? null, kind: r && d ? 'changed' : r ? 'removed' : 'added' });
    }
    removed.length = 0;
    added.length = 0;
  };
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      pair();
      rows.push({ left: a[i] ?? '', right: b[j] ?? '', leftNo: i + 1, rightNo: j + 1, kind: 'same' });
      i++;
      j++;
    } else if (j < m && (i >= n || (lcs[i]?.[j + 1] ?? 0) >= (lcs[i + 1]?.[j] ?? 0))) {
      added.push({ left: null, right: b[j] ?? '', leftNo: null, rightNo: j + 1, kind: 'added' });
      j++;
    } else {
      removed.push({ left: a[i] ?? '', right: null, leftNo: i + 1, rightNo: null, kind: 'removed' });
      i++;
    }
  }
  pair();
  return rows;
}
