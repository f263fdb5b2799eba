export interface WriteBatcherOptions {
  /** A batch is written as soon as it holds this many items (1: no batching). @default 64 */
  maxItems?: number;
  /** How long the first item of a batch waits for more before the batch is written. @default 2 */
  lingerMs?: number;
}

export const DEFAULT_BATCH_MAX_ITEMS = 64;
export const DEFAULT_BATCH_LINGER_MS = 2;

interface Waiting<T, R> {
  item: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/**
 * Collects the items that arrive within `lingerMs` of each other (or `maxItems` of them)
 * and hands them to `write` together. `write` answers for each item on its own (a settled
 * result per item, in order), so one item's failure is that item's caller's only.
 * Batches do not wait for each other: a new one starts collecting while the last is written.
 */
export class WriteBatcher<T, R> {
  private pending: Waiting<T, R>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly maxItems: number;
  private readonly lingerMs: number;

  constructor(
    private readonly write: (items: readonly T[]) => Promise<PromiseSettledResult<R>[]>,
    options: WriteBatcherOptions = {},
  ) {
    this.maxItems = Math.max(1, Math.floor(options.maxItems ?? DEFAULT_BATCH_MAX_ITEMS));
    this.lingerMs = Math.max(0, options.lingerMs ?? DEFAULT_BATCH_LINGER_MS);
  }

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.maxItems) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.lingerMs);
    });
  }

  private flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    this.write(batch.map((waiting) => waiting.item)).then(
      (results) =>
        batch.forEach((waiting, i) => {
          const result = results[i];
          if (result === undefined) waiting.reject(new Error('WriteBatcher: the batch writer answered for fewer items than it was given'));
          else if (result.status === 'fulfilled') waiting.resolve(result.value);
          else waiting.reject(result.reason);
        }),
      (error: unknown) => batch.forEach((waiting) => waiting.reject(error)),
    );
  }
}
