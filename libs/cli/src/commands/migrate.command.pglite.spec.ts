import type { Io } from '../io';
import { migrateCommand } from './migrate.command';
import { tempDirForSuite } from './__fixtures__/temp-dir';

function capture(): Io & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (l) => lines.push(l), err: (l) => lines.push(`ERR ${l}`), isTTY: false, write: (t) => lines.push(t) };
}

describe('weft migrate (PGlite directory)', () => {
  let dir = '';
  tempDirForSuite('weft-migrate-', (made) => (dir = made));

  it('applies every service’s migrations once, then reports them up to date', async () => {
    const first = capture();
    expect(await migrateCommand(first, { WEFT_DATA_DIR: dir })).toBe(0);
    expect(first.lines).toEqual([
      expect.stringMatching(/^scheduler: applied SchedulerSchema\d+/),
      expect.stringMatching(/^journal: applied JournalSchema\d+/),
      expect.stringMatching(/^analytics: applied AnalyticsSchema\d+/),
      'triggers: applied TriggersSchema1795700000000',
    ]);
    const second = capture();
    expect(await migrateCommand(second, { WEFT_DATA_DIR: dir })).toBe(0);
    expect(second.lines).toEqual(['scheduler: up to date', 'journal: up to date', 'analytics: up to date', 'triggers: up to date']);
  }, 120_000);

  it('names the variable when DATABASE_URL is malformed', async () => {
    const io = capture();
    expect(await migrateCommand(io, { DATABASE_URL: 'mysql://nope' })).toBe(2);
    expect(io.lines.join('\n')).toMatch(/DATABASE_URL/);
  });
});
