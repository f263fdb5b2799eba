import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { DbError } from '../db.errors';

/** What a lock file says about its holder. */
export interface LockHolder {
  pid: number;
  /** The holder's command line, e.g. `weft dev -p 8080`. */
  command: string;
  /** ISO time the lock was taken. */
  since: string;
}

/** The lock beside a PGlite data directory: `.weft/data` -> `.weft/data.lock`. */
export const lockFileOf = (dataDir: string): string => `${dataDir.replace(/[\\/]+$/, '')}.lock`;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

function readHolder(file: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockHolder>;
    return typeof parsed.pid === 'number' ? { pid: parsed.pid, command: String(parsed.command ?? '?'), since: String(parsed.since ?? '?') } : undefined;
  } catch {
    return undefined;
  }
}

const commandLine = (): string => {
  const [script, ...args] = process.argv.slice(1);
  const name = script === undefined ? 'node' : basename(script).replace(/\.(js|ts)$/, '');
  return [name, ...args].join(' ').slice(0, 200);
};

/**
 * Takes the one-process lock on a PGlite directory. PGlite is a single Postgres session in
 * one process: a second process opening the same files corrupts them (or aborts in the WASM,
 * `Aborted()`), so it must fail first with the holder's name. A lock whose process is gone
 * (kill -9) is stale and taken over. Returns the release function.
 */
export function lockDataDir(dataDir: string): () => void {
  const file = lockFileOf(dataDir);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      const holder: LockHolder = { pid: process.pid, command: commandLine(), since: new Date().toISOString() };
      writeSync(fd, `${JSON.stringify(holder)}\n`);
      closeSync(fd);
      return () => {
        // Only our own lock: a stale-lock takeover by another process may have replaced it.
        if (readHolder(file)?.pid === process.pid) {
          try {
            unlinkSync(file);
          } catch {
            // already gone
          }
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readHolder(file);
    if (holder !== undefined && holder.pid !== process.pid && alive(holder.pid)) {
      throw new DbError(
        'DB_LOCKED',
        `the embedded database in ${dataDir} is in use by \`${holder.command}\` (pid ${holder.pid}, since ${holder.since}); ` +
          'PGlite serves one process at a time: stop it, or talk to it (--api for a running weft dev), or use another WEFT_DATA_DIR',
      );
    }
    // Stale (its process is gone), unreadable, or a half-written file: take it over.
    try {
      unlinkSync(file);
    } catch {
      // someone else removed it first
    }
  }
  throw new DbError('DB_LOCKED', `could not take the lock ${file}: another process keeps taking it`);
}
