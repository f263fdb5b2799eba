import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';

const bin = join(__dirname, '..', '..', 'bin', 'weft.js');

export interface WeftResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

// Nothing in the environment points elsewhere: the defaults (.weft/data in the folder) apply.
const env = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !['WEFT_DATA_DIR', 'WEFT_API_URL', 'WEFT_API_KEY', 'DATABASE_URL', 'NATS_URL', 'PORT'].includes(key)),
);

/**
 * `weft <args>` as a process in `cwd` on its local store (.weft/data there). PORT is one nobody
 * serves: the read verbs must not find some `weft dev` of this machine.
 */
export function startWeft(cwd: string, args: string[]): { child: ChildProcessWithoutNullStreams; ended: Promise<WeftResult> } {
  const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...env, PORT: '1', NO_COLOR: '1' } });
  const ended = new Promise<WeftResult>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, ended };
}

/** `weft <args>` in `cwd` to its end. */
export const weftIn = (cwd: string, args: string[]): Promise<WeftResult> => startWeft(cwd, args).ended;
