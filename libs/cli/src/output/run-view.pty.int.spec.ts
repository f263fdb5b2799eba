import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replay } from './__fixtures__/screen';

// The live view in a real pseudo-terminal (util-linux `script`), at two sizes: what is left on
// the screen once `weft run` ends must be the final frame, the messages and the summary, and
// no line of an earlier frame (issue 17 item 5: a 102-step fan-out left 53 "queued" lines).

const root = join(__dirname, '..', '..', '..', '..');
const bin = join(root, 'libs', 'cli', 'bin', 'weft.js');
const SIZES = [
  { columns: 80, rows: 24 },
  { columns: 120, rows: 40 },
];

interface Pty {
  output: () => string;
  /** Types into the terminal (\x03 is Ctrl-C: the terminal sends SIGINT to the program). */
  type(text: string): void;
  done: Promise<number>;
}

function inPty(args: string[], size: { columns: number; rows: number }): Pty {
  const command = `stty cols ${size.columns} rows ${size.rows}; exec ${[process.execPath, bin, ...args].map((a) => `'${a}'`).join(' ')}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: root, env: { ...process.env, WEFT_DATA_DIR: 'memory://', TERM: 'xterm' } });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    output: () => output,
    type: (text) => void child.stdin.write(text),
    done: new Promise((resolve) => child.on('close', (code) => resolve(code ?? -1))),
  };
}

async function until(what: string, check: () => boolean, timeoutMs = 90_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the live view in a pseudo-terminal', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-pty-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each(SIZES)('a 100-wide fan-out at $columns x $rows: one final frame with a counter line, no stale lines', async (size) => {
    const pty = inPty(['run', 'examples/fan-out.yaml'], size);
    expect(await pty.done).toBe(0);
    const screen = replay(pty.output(), size.columns, size.rows);
    expect(screen.filter((l) => /queued|pending|running/.test(l))).toEqual([]);
    expect(screen.filter((l) => /^fan-out \d/.test(l))).toHaveLength(1);
    const header = screen.findIndex((l) => /^fan-out \d/.test(l));
    expect(screen.slice(header, header + 3)).toEqual([expect.stringMatching(/^fan-out \d/), '  102 steps: 102 completed', expect.stringMatching(/^run completed in \S+ \(102 completed\)$/)]);
    // The header's time is the run's: the one the summary gives.
    expect(screen[header]?.split(' ')[1]).toBe(/ in (\S+) /.exec(screen[header + 2] ?? '')?.[1]);
    expect(screen.every((l) => l.length < size.columns)).toBe(true);
  }, 120_000);

  it.each(SIZES)('Ctrl-C at $columns x $rows: the message stays, the steps end canceled, no stale lines', async (size) => {
    const file = join(dir, `sleepy-${size.columns}.yaml`);
    const sleepers = Array.from({ length: 40 }, (_, i) => `  - id: nap_${i}\n    action: sleep\n    with: { duration: 5m }\n`).join('');
    await writeFile(file, `apiVersion: weft/v1\nkind: Workflow\nname: sleepy\nsteps:\n${sleepers}`);
    const pty = inPty(['run', file], size);
    await until('the steps to wait', () => /\d+ waiting/.test(pty.output()));
    pty.type('\x03');
    expect(await pty.done).toBe(1);
    const screen = replay(pty.output(), size.columns, size.rows);
    expect(screen).toContain('canceling the run (Ctrl-C again to quit at once)…');
    expect(screen.filter((l) => /^sleepy \d/.test(l))).toHaveLength(1);
    expect(screen.filter((l) => /waiting|queued|pending|running/.test(l))).toEqual([]);
    expect(screen.some((l) => l.startsWith('run canceled'))).toBe(true);
  }, 120_000);
});
