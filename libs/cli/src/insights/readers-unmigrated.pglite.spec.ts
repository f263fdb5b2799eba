import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { historyCommand } from '../commands/history.command';
import { KEPT_RUNS_FORMAT, pendingDirOf } from '../embedded/kept-runs';
import type { Io } from '../io';

const noDevServer = async (): Promise<Response> => {
  throw new TypeError('fetch failed');
};

// The import of kept runs opens the store first: without its tables (and WEFT_MIGRATE=false) the reader says so, as without pending files.
describe('weft history on a PGlite directory without tables, with a kept run pending', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'weft-unmigrated-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('exits 2 with the no-tables message', async () => {
    const dir = join(root, 'data');
    mkdirSync(dir, { recursive: true });
    mkdirSync(pendingDirOf(dir));
    writeFileSync(join(pendingDirOf(dir), '1-r.json'), JSON.stringify({ format: KEPT_RUNS_FORMAT, runs: [], events: [] }));
    const errors: string[] = [];
    const io: Io = { isTTY: false, out: () => undefined, err: (line) => void errors.push(line), write: () => undefined };
    expect(await historyCommand('r', {}, io, { WEFT_DATA_DIR: dir, WEFT_MIGRATE: 'false', PORT: '1' }, noDevServer)).toBe(2);
    expect(errors).toEqual([`PGlite in ${dir} has no journal tables yet: start \`weft dev\` once (or run \`weft migrate\`)`]);
  }, 60_000);
});
