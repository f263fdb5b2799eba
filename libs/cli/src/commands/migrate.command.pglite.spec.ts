import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Io } from '../io';
import { migrateCommand } from './migrate.command';

function capture(): Io & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (l) => lines.push(l), err: (l) => lines.push(`ERR ${l}`), isTTY: false, write: (t) => lines.push(t) };
}

describe('weft migrate (PGlite directory)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-migrate-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

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
