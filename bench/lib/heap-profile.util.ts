/**
 * A V8 sampling heap profile (HeapProfiler.stopSampling) summed by frame: bytes allocated in each
 * frame itself (self) and under it (inclusive, a frame counted once per path however often it
 * recurs). bench/alloc-profile.ts and bench/w4-tail.ts print it per step.
 */
import { type CallFrame, frameKey } from '../profile-summary';

export interface HeapProfileNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapProfileNode[];
}

export interface HeapProfileSums {
  self: Map<string, number>;
  inclusive: Map<string, number>;
  totalBytes: number;
}

export function sumHeapProfile(head: HeapProfileNode): HeapProfileSums {
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let totalBytes = 0;
  const walk = (node: HeapProfileNode, onPath: ReadonlySet<string>): number => {
    const key = frameKey(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + node.selfSize);
    totalBytes += node.selfSize;
    const path = onPath.has(key) ? onPath : new Set([...onPath, key]);
    let sum = node.selfSize;
    for (const child of node.children) sum += walk(child, path);
    if (!onPath.has(key)) inclusive.set(key, (inclusive.get(key) ?? 0) + sum);
    return sum;
  };
  walk(head, new Set());
  return { self, inclusive, totalBytes };
}

/** The `n` largest of `sums` as lines of KB per step. */
export function topPerStep(sums: ReadonlyMap<string, number>, steps: number, n: number): string {
  return [...sums]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, bytes]) => `${(bytes / steps / 1024).toFixed(2).padStart(7)} KB/step  ${key}`)
    .join('\n');
}
