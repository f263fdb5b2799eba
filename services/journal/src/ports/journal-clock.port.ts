/** Where "now" comes from for relative query windows (`since=24h`): the store's database time. */
export interface JournalClock {
  now(): Promise<number>;
}

export const JOURNAL_CLOCK = Symbol('JOURNAL_CLOCK');
