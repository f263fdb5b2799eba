import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DbError } from '../db.errors';
import { lockDataDir, lockFileOf } from './pglite-lock';

describe('lockDataDir', () => {
  let root: string;
  let dataDir: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'weft-lock-'));
    dataDir = join(root, 'data');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes who holds it beside the directory and removes it on release', () => {
    const release = lockDataDir(dataDir);
    const holder = JSON.parse(readFileSync(lockFileOf(dataDir), 'utf8')) as { pid: number; command: string };
    expect(holder.pid).toBe(process.pid);
    expect(lockFileOf(`${dataDir}/`)).toBe(join(root, 'data.lock'));
    release();
    expect(existsSync(lockFileOf(dataDir))).toBe(false);
  });

  it('refuses a directory a live process holds, naming its command and pid', async () => {
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      writeFileSync(lockFileOf(dataDir), JSON.stringify({ pid: other.pid, command: 'weft dev -p 8080', since: '2026-01-01T00:00:00.000Z' }));
      let caught: unknown;
      try {
        lockDataDir(dataDir);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(DbError);
      expect(caught).toMatchObject({ code: 'DB_LOCKED' });
      expect((caught as Error).message).toContain(`in use by \`weft dev -p 8080\` (pid ${other.pid}`);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('takes over a lock whose process is gone (kill -9 leaves one behind), and an unreadable one', () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(lockFileOf(dataDir), JSON.stringify({ pid: gone, command: 'weft run x.yaml', since: '2026-01-01T00:00:00.000Z' }));
    lockDataDir(dataDir)();
    writeFileSync(lockFileOf(dataDir), 'half a wri');
    const release = lockDataDir(dataDir);
    expect(JSON.parse(readFileSync(lockFileOf(dataDir), 'utf8'))).toMatchObject({ pid: process.pid });
    release();
  });
});
