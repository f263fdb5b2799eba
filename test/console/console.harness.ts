import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { dropSchema, POSTGRES_TEST_URL, randomSchemaName, serverReachable } from '@weft/db/testing';
import { type Browser, chromium, type ConsoleMessage, type Page } from 'playwright-core';

export const ROOT = join(__dirname, '..', '..');
export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
/** Debian's chromium (`apt-get install -y chromium`; .ci/run installs it); CHROMIUM_PATH overrides. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(ROOT, 'docs', 'console');

/** What the browser specs need (describeWhenReachable: skipped loudly locally, a failure under CI=true). */
export const consoleNeeds = (): { what: string; up: boolean }[] => [
  { what: `NATS at ${NATS_URL}`, up: serverReachable(NATS_URL, 4222) },
  { what: `PostgreSQL at ${POSTGRES_TEST_URL}`, up: serverReachable(POSTGRES_TEST_URL, 5432) },
  { what: `Chromium at ${CHROMIUM} (apt-get install -y chromium)`, up: existsSync(CHROMIUM) },
];

/** The flags this machine needs (its closed network refuses Chromium's background connections). */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const CONSOLE = join(ROOT, 'apps', 'console');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * Builds the console from source unless dist/ is newer than every source file, so the
 * browser tests what the tree holds. Specs running in parallel take turns (a lock folder).
 */
export async function buildConsole(): Promise<void> {
  const lock = join(CONSOLE, '.build-lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than the longest build is left from a killed run.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`the console build lock ${lock} was held for 120 s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    const index = join(CONSOLE, 'dist', 'index.html');
    // The draft editor bundles the published workflow JSON Schema (docs/schema).
    const schema = statSync(join(ROOT, 'docs', 'schema', 'workflow-v1.schema.json')).mtimeMs;
    const sources = Math.max(newestSource(join(CONSOLE, 'src')), statSync(join(CONSOLE, 'index.html')).mtimeMs, statSync(join(CONSOLE, 'vite.config.mts')).mtimeMs, schema);
    if (existsSync(index) && statSync(index).mtimeMs > sources) return;
    runViteBuild();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function runViteBuild(): void {
  const out = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], { cwd: CONSOLE, encoding: 'utf8', timeout: 120_000 });
  if (out.status !== 0) throw new Error(`console build failed (${out.status}):\n${out.stdout}\n${out.stderr}`);
  if (!existsSync(join(CONSOLE, 'dist', 'index.html'))) throw new Error('console build wrote no dist/index.html');
}

export interface Dev {
  url: string;
  schema: string;
  prefix: string;
  output(): string;
  /** fetch against weft dev's API (no key: loopback dev mode). */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }>;
  /** A new API key of namespace default, made by `weft keys create` in the same database. */
  key(): string;
  close(): Promise<void>;
}

/**
 * `weft dev --port 0` as a process on real NATS (its own prefix) and PostgreSQL (its own
 * schema). `host: '0.0.0.0'` binds every address, where every request needs a key.
 */
export async function startDev(options: { host?: string } = {}): Promise<Dev> {
  const schema = randomSchemaName('console');
  const prefix = `console${randomBytes(4).toString('hex')}`;
  const env: NodeJS.ProcessEnv = { ...process.env, NATS_URL, DATABASE_URL: POSTGRES_TEST_URL, WEFT_DB_SCHEMA: schema, WEFT_NATS_PREFIX: prefix, LOG_LEVEL: 'warn', FORCE_COLOR: '0', NO_COLOR: '1' };
  delete env.WEFT_DATA_DIR;
  delete env.WEFT_API_URL;
  delete env.WEFT_API_KEY;
  if (options.host) env.HOST = options.host;
  else delete env.HOST;
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'libs', 'cli', 'bin', 'weft.js'), 'dev', '--port', '0'], { cwd: ROOT, env });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`weft dev printed no URL within 90s:\n${output}`)), 90_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const found = /listening on http:\/\/[^:]+:(\d+) \(console: /.exec(output)?.[1];
      if (found && (output.includes('loopback only') || output.includes('every API request needs a key'))) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${found}`);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`weft dev exited (${code}) before it listened:\n${output}`));
    });
  });
  const api = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> => {
    const res = await fetch(`${url}${path}`, { method, headers: body === undefined ? {} : { 'Content-Type': 'application/json' }, ...(body !== undefined && { body: JSON.stringify(body) }) });
    const text = await res.text();
    return { status: res.status, json: (text ? JSON.parse(text) : undefined) as T };
  };
  const key = (): string => {
    const made = spawnSync(process.execPath, [join(ROOT, 'libs', 'cli', 'bin', 'weft.js'), 'keys', 'create', '--namespace', 'default'], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
    const found = /weft_\S+/.exec(made.stdout)?.[0];
    if (made.status !== 0 || !found) throw new Error(`weft keys create failed (${made.status}): ${made.stdout}${made.stderr}`);
    return found;
  };
  return {
    url,
    schema,
    prefix,
    output: () => output,
    api,
    key,
    close: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      const nc = await connect({ servers: NATS_URL, name: 'weft-console-test-cleanup' });
      try {
        const jsm = await jetstreamManager(nc);
        for await (const info of jsm.streams.list()) if (info.config.name.startsWith(prefix)) await jsm.streams.delete(info.config.name).catch(() => false);
      } finally {
        await nc.close();
      }
      await dropSchema(schema);
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * A page that records what would make a user distrust the console: console errors,
 * uncaught exceptions, and 5xx answers. `expectClean()` fails the test on any of them.
 * `allow` names failed loads that are expected (a journal that has not caught up yet).
 */
export interface WatchedPage {
  page: Page;
  problems: string[];
  expectClean(): void;
}

export async function watchedPage(browser: Browser, options: { allow?: RegExp[]; colorScheme?: 'dark' | 'light' } = {}): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: options.colorScheme ?? 'light' });
  const page = await context.newPage();
  const problems: string[] = [];
  const allowed = (text: string): boolean => (options.allow ?? []).some((re) => re.test(text));
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() !== 'error') return;
    const text = `${message.text()} (${message.location().url})`;
    if (!allowed(text)) problems.push(`console error: ${text}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('response', (res) => {
    if (res.status() >= 500) problems.push(`HTTP ${res.status()} from ${res.url()}`);
  });
  return {
    page,
    problems,
    expectClean: () => expect(problems).toEqual([]),
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}
