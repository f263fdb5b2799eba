/** Attempts in a flow-control spec's `work` action now, per key, and the most seen at once. */
export class KeyCounts {
  readonly running = new Map<string, number>();
  readonly most = new Map<string, number>();

  enter(key: string): void {
    this.running.set(key, (this.running.get(key) ?? 0) + 1);
    this.most.set(key, Math.max(this.most.get(key) ?? 0, this.running.get(key) ?? 0));
  }

  leave(key: string): void {
    this.running.set(key, (this.running.get(key) ?? 0) - 1);
  }

  clear(): void {
    this.running.clear();
    this.most.clear();
  }
}
