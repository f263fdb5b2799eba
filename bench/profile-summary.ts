/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`, e.g. `bench/run.ts --cpu-prof`):
 * self time by area (package or Weft library), the top self-time frames, and the
 * inclusive time of the frames that matter for the hot path.
 *
 *   node -r @swc-node/register bench/profile-summary.ts <file.cpuprofile> [top=25]
 */
import { readFileSync } from 'node:fs';

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** `typeorm`, `@nats-io/jetstream`, `weft:scheduler`, `(garbage collector)`, `node:internal`, ... */
export function area(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  const weft = /\/(libs|services)\/([^/]+)\//.exec(url);
  if (weft) return `weft:${weft[2]}`;
  if (url.startsWith('node:')) return 'node:internal';
  if (url.includes('/bench/')) return 'bench harness';
  return url;
}

/** "name  libs/core/src/x.ts:12": a frame by function and path from the package or Weft library (1-based line). */
export const frameKey = (f: CallFrame): string => `${f.functionName || '(anonymous)'}  ${f.url.replace(/^.*\/(node_modules|libs|services|bench)\//, '$1/')}:${f.lineNumber + 1}`;

function main(): void {
  const [file, topArg] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top]');
  const top = Number(topArg ?? 25);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  const total = (profile.endTime - profile.startTime) / 1000;

  const areas = new Map<string, number>();
  const frames = new Map<string, number>();
  for (const [id, ms] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const a = area(node.callFrame.url, node.callFrame.functionName);
    areas.set(a, (areas.get(a) ?? 0) + ms);
    const k = frameKey(node.callFrame);
    frames.set(k, (frames.get(k) ?? 0) + ms);
  }
  // Inclusive: every distinct frame on a sample's stack gets the sample once.
  const inclusive = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const seen = new Set<string>();
    for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parent.get(id)) {
      const node = byId.get(id);
      if (!node) break;
      seen.add(frameKey(node.callFrame));
    }
    for (const k of seen) inclusive.set(k, (inclusive.get(k) ?? 0) + ms);
  }
  const busy = total - (areas.get('(idle)') ?? 0);
  const pct = (ms: number) => `${((ms / total) * 100).toFixed(1).padStart(5)}%`;
  console.log(`profile ${file}: ${(total / 1000).toFixed(1)} s wall, ${(busy / 1000).toFixed(1)} s not idle`);
  console.log('\nself time by area');
  for (const [a, ms] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`${pct(ms)}  ${(ms / 1000).toFixed(2).padStart(7)} s  ${a}`);
  console.log('\ntop frames by self time');
  for (const [k, ms] of [...frames].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`${pct(ms)}  ${k}`);
  console.log('\ntop Weft frames by inclusive time');
  for (const [k, ms] of [...inclusive]
    .filter(([k]) => /(libs|services)\//.test(k))
    .sort((x, y) => y[1] - x[1])
    .slice(0, top))
    console.log(`${pct(ms)}  ${k}`);
}

if (require.main === module) main();
