/**
 * Start-up of the `weft` command, the whole process, hyperfine-style: one warm-up run of
 * each command (fills the transpile cache), then N rounds in which every command runs once
 * (interleaved, so drifting load hits each alike); median, p90 and min wall time per
 * command, next to `node -e 0` (what any Node process costs on this machine right now).
 *
 *   node -r @swc-node/register bench/startup.ts [--runs 15] [--legacy] [--root <checkout>]
 *
 * `--legacy` adds each command loaded through @swc-node/register as a whole (what
 * bin/weft.js did before its transpile cache; also what it does with --actions).
 * `--root` measures another checkout's `weft` (e.g. a worktree of the commit before a change,
 * with its own node_modules/@weft links) from the same harness, for before/after pairs.
 * Every command runs in a fresh WEFT_DATA_DIR of its own under the system's temp folder, so
 * `weft run` keeps its runs there, not in the checkout's `.weft` (which another process may
 * hold: the shared tree), and starts with the same store each time.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

interface Case {
  name: string;
  argv: string[];
  target?: number;
}

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const runs = Math.min(Math.max(Number(flag('--runs') ?? 15), 1), 200);
const legacy = args.includes('--legacy');
const root = resolve(flag('--root') ?? join(__dirname, '..'));
const bin = join(root, 'libs/cli/bin/weft.js');
const legacyEntry = `require('@swc-node/register');require(${JSON.stringify(join(root, 'libs/cli/src/main.ts'))}).main(process.argv).then(c=>{process.exitCode=c})`;
const dataDir = join(mkdtempSync(join(tmpdir(), 'weft-startup-')), 'data');

const commands: Array<{ label: string; args: string[]; target: number }> = [
  { label: 'weft --help', args: ['--help'], target: 0.3 },
  { label: 'weft validate examples/diamond.yaml', args: ['validate', 'examples/diamond.yaml'], target: 0.4 },
  { label: 'weft run examples/diamond.yaml', args: ['run', 'examples/diamond.yaml'], target: 0.6 },
];
const cases: Case[] = [{ name: 'node -e 0 (baseline)', argv: ['-e', '0'] }];
for (const c of commands) {
  cases.push({ name: c.label, argv: [bin, ...c.args], target: c.target });
  if (legacy) cases.push({ name: `${c.label} (whole @swc-node/register)`, argv: ['-e', legacyEntry, 'weft', ...c.args] });
}

/** Wall seconds, and CPU seconds (user + system, from /usr/bin/time when present): CPU time moves less with other load. */
const hasTime = spawnSync('/usr/bin/time', ['-f', '%U', 'true']).status === 0;
const once = (c: Case): { wall: number; cpu: number } => {
  const started = process.hrtime.bigint();
  const [cmd, argv] = hasTime ? ['/usr/bin/time', ['-f', 'cpu %U %S', process.execPath, ...c.argv]] : [process.execPath, c.argv];
  const result = spawnSync(cmd, argv, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000, env: { ...process.env, NO_COLOR: '1', WEFT_DATA_DIR: dataDir } });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const stderr = result.stderr.toString();
  if (result.status !== 0) throw new Error(`${c.name} exited ${String(result.status)}: ${stderr.slice(0, 500)}`);
  const cpu = /cpu (\S+) (\S+)\s*$/.exec(stderr);
  return { wall, cpu: cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN };
};

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

function main(): void {
  const loadBefore = loadavg();
  for (const c of cases) once(c); // warm-up: transpile cache, page cache
  const times = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  const cpus = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let round = 0; round < runs; round++)
    for (const c of cases) {
      const t = once(c);
      times.get(c.name)?.push(t.wall);
      cpus.get(c.name)?.push(t.cpu);
    }
  const loadAfter = loadavg();
  const fmt = (s: number): string => s.toFixed(3);
  const lines = [
    `start-up of ${root}, ${runs} runs each, Node ${process.version}, load average ${loadBefore[0].toFixed(1)} -> ${loadAfter[0].toFixed(1)}`,
    '',
    '| command | median s | p90 s | min s | CPU s (median) | target (wall median) |',
    '|---|---|---|---|---|---|',
  ];
  for (const c of cases) {
    const sorted = [...(times.get(c.name) ?? [])].sort((a, b) => a - b);
    const median = quantile(sorted, 0.5);
    const verdict = c.target === undefined ? '' : `<= ${c.target} s: ${median <= c.target ? 'met' : 'not met'}`;
    const cpu = quantile([...(cpus.get(c.name) ?? [])].sort((a, b) => a - b), 0.5);
    lines.push(`| ${c.name} | ${fmt(median)} | ${fmt(quantile(sorted, 0.9))} | ${fmt(sorted[0] ?? NaN)} | ${cpu.toFixed(2)} | ${verdict} |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  rmSync(join(dataDir, '..'), { recursive: true, force: true });
}

main();
