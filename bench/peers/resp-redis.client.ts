/**
 * A small RESP2 client implementing BullMQ's `IRedisClient` port.
 *
 * Why: BullMQ 6 loads `ioredis` (or node-redis) as an optional peer, and neither is
 * installed in this repository. BullMQ's port is small and documented
 * (`interfaces/redis-client.d.ts`), so the benchmark brings its own adapter instead of
 * a new dependency. Like ioredis it writes each command at once (no auto-pipelining),
 * writes a pipeline in one go, runs scripts with EVALSHA (EVAL on NOSCRIPT) and
 * returns bulk strings as strings. No reconnects, no cluster, no TLS: benchmark only.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { IRedisClient, IRedisTransaction, RedisOptions } from 'bullmq';

type Arg = string | number | Buffer;
export type Reply = string | number | null | ReplyError | Reply[];

export class ReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplyError';
  }
}

const CLOSED = 'Connection is closed.';
const CRLF = Buffer.from('\r\n');

interface Script {
  sha: string;
  lua: string;
  numberOfKeys: number;
}

interface Pending {
  resolve(value: Reply): void;
  reject(error: Error): void;
}

function encode(args: readonly Arg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const data = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg));
    parts.push(Buffer.from(`$${data.length}\r\n`), data, CRLF);
  }
  return Buffer.concat(parts);
}

/** Parses one reply at `pos`; undefined when the buffer does not hold all of it yet. */
function parse(buf: Buffer, pos: number): { value: Reply; next: number } | undefined {
  if (pos >= buf.length) return undefined;
  const end = buf.indexOf('\r\n', pos);
  if (end < 0) return undefined;
  const type = buf[pos];
  const line = buf.toString('utf8', pos + 1, end);
  switch (type) {
    case 0x2b: // +
      return { value: line, next: end + 2 };
    case 0x2d: // -
      return { value: new ReplyError(line), next: end + 2 };
    case 0x3a: // :
      return { value: Number(line), next: end + 2 };
    case 0x24: {
      // $
      const len = Number(line);
      if (len < 0) return { value: null, next: end + 2 };
      if (buf.length < end + 2 + len + 2) return undefined;
      return { value: buf.toString('utf8', end + 2, end + 2 + len), next: end + 2 + len + 2 };
    }
    case 0x2a: {
      // *
      const count = Number(line);
      if (count < 0) return { value: null, next: end + 2 };
      const items: Reply[] = [];
      let next = end + 2;
      for (let i = 0; i < count; i++) {
        const item = parse(buf, next);
        if (!item) return undefined;
        items.push(item.value);
        next = item.next;
      }
      return { value: items, next };
    }
    default:
      throw new Error(`RESP: unexpected reply type ${String.fromCharCode(type ?? 0)}`);
  }
}

const asString = (r: Reply): string => (typeof r === 'string' ? r : r === null ? '' : String(r));
const asStrings = (r: Reply): string[] => (Array.isArray(r) ? r.map(asString) : []);
function asHash(r: Reply): Record<string, string> {
  const out: Record<string, string> = {};
  const flat = asStrings(r);
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]] = flat[i + 1];
  return out;
}
const hsetArgs = (key: string, data: Record<string, string | number>): Arg[] => ['HSET', key, ...Object.entries(data).flat()];
const scriptArgs = (args: unknown[]): unknown[] => (args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args);
function toArg(value: unknown): Arg {
  if (Buffer.isBuffer(value)) return value;
  if (value === undefined || value === null) return '';
  if (typeof value === 'number') return value;
  return String(value);
}

export class RespRedisClient extends EventEmitter implements IRedisClient {
  status = 'connecting';
  readonly isCluster = false;
  options: Record<string, unknown>;
  private readonly socket: Socket;
  private readonly queue: Pending[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private readonly scripts: Map<string, Script>;
  private readonly ready: Promise<void>;

  constructor(options: RedisOptions = {}, scripts?: Map<string, Script>) {
    super();
    this.options = { ...options };
    this.scripts = new Map(scripts ?? []);
    this.socket = connect({ host: options.host ?? '127.0.0.1', port: options.port ?? 6379 });
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (error) => {
      if (this.listenerCount('error') > 0) this.emit('error', error);
    });
    this.socket.on('close', () => this.onClose());
    this.ready = new Promise((resolve) => {
      this.socket.once('connect', () => {
        const name = options.connectionName;
        const named = typeof name === 'string' && name !== '' ? this.call('CLIENT', 'SETNAME', name) : Promise.resolve(null);
        void named
          .catch(() => null)
          .then(() => {
            if (this.status === 'connecting') this.status = 'ready';
            this.emit('connect');
            this.emit('ready');
            resolve();
          });
      });
    });
  }

  /** Sends one command; resolves with its reply, rejects with a ReplyError for `-ERR`. */
  call(...args: Arg[]): Promise<Reply> {
    return this.send(args).then((reply) => {
      if (reply instanceof ReplyError) throw reply;
      return reply;
    });
  }

  /** Like call, but resolves with error replies instead of rejecting (pipelines). */
  send(args: readonly Arg[]): Promise<Reply> {
    if (this.status === 'end') return Promise.reject(new Error(CLOSED));
    return new Promise<Reply>((resolve, reject) => {
      this.queue.push({ resolve, reject });
      this.socket.write(encode(args));
    });
  }

  /** Several commands written at once; replies in order. */
  sendMany(commands: readonly (readonly Arg[])[]): Promise<Reply[]> {
    if (this.status === 'end') return Promise.reject(new Error(CLOSED));
    const replies = commands.map(
      () =>
        new Promise<Reply>((resolve, reject) => {
          this.queue.push({ resolve, reject });
        }),
    );
    this.socket.write(Buffer.concat(commands.map(encode)));
    return Promise.all(replies);
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let pos = 0;
    for (;;) {
      const parsed = parse(this.buffer, pos);
      if (!parsed) break;
      pos = parsed.next;
      this.queue.shift()?.resolve(parsed.value);
    }
    this.buffer = pos >= this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(pos);
  }

  private onClose(): void {
    const wasEnded = this.status === 'end';
    this.status = 'end';
    for (const pending of this.queue.splice(0)) pending.reject(new Error(CLOSED));
    this.emit('close');
    if (!wasEnded) this.emit('end');
  }

  async connect(): Promise<void> {
    await this.ready;
  }

  disconnect(): void {
    if (this.status === 'end') return;
    this.status = 'end';
    for (const pending of this.queue.splice(0)) pending.reject(new Error(CLOSED));
    this.socket.destroy();
    setImmediate(() => this.emit('end'));
  }

  async quit(): Promise<string> {
    if (this.status === 'end') return 'OK';
    await this.call('QUIT').catch(() => null);
    this.disconnect();
    return 'OK';
  }

  duplicate(overrides?: RedisOptions): RespRedisClient {
    return new RespRedisClient({ ...this.options, ...(overrides ?? {}) }, this.scripts);
  }

  defineCommand(name: string, definition: { numberOfKeys: number; lua: string }): void {
    const sha = createHash('sha1').update(definition.lua).digest('hex');
    this.scripts.set(name, { sha, lua: definition.lua, numberOfKeys: definition.numberOfKeys });
    // Loaded ahead, so EVALSHA in pipelines finds it (commands run in order on one connection).
    this.send(['SCRIPT', 'LOAD', definition.lua]).catch(() => undefined);
  }

  scriptCommand(name: string, args: unknown[]): { script: Script; argv: Arg[] } {
    const script = this.scripts.get(name);
    if (!script) throw new Error(`unknown script command ${name}`);
    return { script, argv: scriptArgs(args).map(toArg) };
  }

  async runCommand(name: string, args: unknown[]): Promise<Reply> {
    const { script, argv } = this.scriptCommand(name, args);
    const reply = await this.send(['EVALSHA', script.sha, script.numberOfKeys, ...argv]);
    if (reply instanceof ReplyError && reply.message.startsWith('NOSCRIPT')) return this.call('EVAL', script.lua, script.numberOfKeys, ...argv);
    if (reply instanceof ReplyError) throw reply;
    return reply;
  }

  multi(): IRedisTransaction {
    return new RespTransaction(this, true);
  }

  pipeline(): IRedisTransaction {
    return new RespTransaction(this, false);
  }

  async hgetall(key: string): Promise<Record<string, string>> {
    return asHash(await this.call('HGETALL', key));
  }
  async hget(key: string, field: string): Promise<string | null> {
    const r = await this.call('HGET', key, field);
    return r === null ? null : asString(r);
  }
  async hmget(key: string, ...fields: string[]): Promise<(string | null)[]> {
    const r = await this.call('HMGET', key, ...fields);
    return Array.isArray(r) ? r.map((v) => (v === null ? null : asString(v))) : [];
  }
  async hset(key: string, data: Record<string, string | number>): Promise<number> {
    return Number(await this.call(...hsetArgs(key, data)));
  }
  async hdel(key: string, ...fields: string[]): Promise<number> {
    return Number(await this.call('HDEL', key, ...fields));
  }
  async hexists(key: string, field: string): Promise<number> {
    return Number(await this.call('HEXISTS', key, field));
  }
  async get(key: string): Promise<string | null> {
    const r = await this.call('GET', key);
    return r === null ? null : asString(r);
  }
  async set(key: string, value: string | number, options?: { PX?: number; EX?: number }): Promise<string | null> {
    const extra: Arg[] = options?.PX !== undefined ? ['PX', options.PX] : options?.EX !== undefined ? ['EX', options.EX] : [];
    const r = await this.call('SET', key, value, ...extra);
    return r === null ? null : asString(r);
  }
  async del(...keys: string[]): Promise<number> {
    return keys.length === 0 ? 0 : Number(await this.call('DEL', ...keys));
  }
  async zrange(key: string, start: number, end: number, options?: { WITHSCORES?: boolean }): Promise<string[]> {
    return asStrings(await this.call('ZRANGE', key, start, end, ...(options?.WITHSCORES ? ['WITHSCORES'] : [])));
  }
  async zrevrange(key: string, start: number, end: number, options?: { WITHSCORES?: boolean }): Promise<string[]> {
    return asStrings(await this.call('ZREVRANGE', key, start, end, ...(options?.WITHSCORES ? ['WITHSCORES'] : [])));
  }
  async zcard(key: string): Promise<number> {
    return Number(await this.call('ZCARD', key));
  }
  async zscore(key: string, member: string): Promise<string | null> {
    const r = await this.call('ZSCORE', key, member);
    return r === null ? null : asString(r);
  }
  async lrange(key: string, start: number, end: number): Promise<string[]> {
    return asStrings(await this.call('LRANGE', key, start, end));
  }
  async llen(key: string): Promise<number> {
    return Number(await this.call('LLEN', key));
  }
  async ltrim(key: string, start: number, end: number): Promise<string> {
    return asString(await this.call('LTRIM', key, start, end));
  }
  async lpos(key: string, value: string): Promise<number | null> {
    const r = await this.call('LPOS', key, value);
    return r === null ? null : Number(r);
  }
  async smembers(key: string): Promise<string[]> {
    return asStrings(await this.call('SMEMBERS', key));
  }
  async xadd(key: string, id: string, fields: Record<string, string | number>, options?: { MAXLEN?: number; approximate?: boolean }): Promise<string> {
    const trim: Arg[] = options?.MAXLEN !== undefined ? ['MAXLEN', ...(options.approximate === false ? [] : ['~']), options.MAXLEN] : [];
    return asString(await this.call('XADD', key, ...trim, id, ...Object.entries(fields).flat()));
  }
  async xread(streams: { key: string; id: string }[], options?: { BLOCK?: number; COUNT?: number }): Promise<Reply> {
    const opts: Arg[] = [];
    if (options?.COUNT !== undefined) opts.push('COUNT', options.COUNT);
    if (options?.BLOCK !== undefined) opts.push('BLOCK', options.BLOCK);
    return this.call('XREAD', ...opts, 'STREAMS', ...streams.map((s) => s.key), ...streams.map((s) => s.id));
  }
  async xtrim(key: string, strategy: 'MAXLEN', threshold: number, options?: { approximate?: boolean }): Promise<number> {
    return Number(await this.call('XTRIM', key, strategy, ...(options?.approximate === false ? [] : ['~']), threshold));
  }
  async bzpopmin(key: string, timeout: number): Promise<[key: string, member: string, score: string] | null> {
    const r = await this.call('BZPOPMIN', key, timeout);
    if (!Array.isArray(r)) return null;
    return [asString(r[0] ?? null), asString(r[1] ?? null), asString(r[2] ?? null)];
  }
  async info(): Promise<string> {
    return asString(await this.call('INFO'));
  }
  clientSetName(name: string): Promise<Reply> {
    return this.call('CLIENT', 'SETNAME', name);
  }
  async clientList(): Promise<string> {
    return asString(await this.call('CLIENT', 'LIST'));
  }
  async clientInfo(): Promise<string> {
    return asString(await this.call('CLIENT', 'INFO'));
  }
  async scan(cursor: string | number, options: { MATCH?: string; COUNT?: number }): Promise<[string, string[]]> {
    const opts: Arg[] = [];
    if (options.MATCH !== undefined) opts.push('MATCH', options.MATCH);
    if (options.COUNT !== undefined) opts.push('COUNT', options.COUNT);
    const r = await this.call('SCAN', cursor, ...opts);
    return Array.isArray(r) ? [asString(r[0] ?? '0'), asStrings(r[1] ?? [])] : ['0', []];
  }
  scanStream(options: { match: string; count?: number }): Readable {
    let cursor = '0';
    let done = false;
    const stream: Readable = new Readable({
      objectMode: true,
      read: () => {
        if (done) return;
        this.scan(cursor, { MATCH: options.match, COUNT: options.count ?? 100 }).then(
          ([next, keys]) => {
            cursor = next;
            if (cursor === '0') done = true;
            if (keys.length > 0) stream.push(keys);
            if (done) stream.push(null);
            else if (keys.length === 0) setImmediate(() => stream.read(0));
          },
          (error: unknown) => stream.destroy(error instanceof Error ? error : new Error(String(error))),
        );
      },
    });
    return stream;
  }
}

class RespTransaction implements IRedisTransaction {
  private readonly commands: Arg[][] = [];
  private readonly transforms: ((reply: Reply) => unknown)[] = [];

  constructor(
    private readonly client: RespRedisClient,
    private readonly atomic: boolean,
  ) {}

  private add(args: Arg[], transform: (reply: Reply) => unknown = (r) => r): this {
    this.commands.push(args);
    this.transforms.push(transform);
    return this;
  }

  hgetall(key: string): this {
    return this.add(['HGETALL', key], asHash);
  }
  hset(key: string, data: Record<string, string | number>): this {
    return this.add(hsetArgs(key, data));
  }
  hscan(key: string, cursor: string | number, options?: { COUNT?: number }): this {
    return this.add(['HSCAN', key, cursor, ...(options?.COUNT !== undefined ? ['COUNT', options.COUNT] : [])]);
  }
  smembers(key: string): this {
    return this.add(['SMEMBERS', key]);
  }
  sscan(key: string, cursor: string | number, options?: { COUNT?: number }): this {
    return this.add(['SSCAN', key, cursor, ...(options?.COUNT !== undefined ? ['COUNT', options.COUNT] : [])]);
  }
  zrange(key: string, start: number, end: number): this {
    return this.add(['ZRANGE', key, start, end]);
  }
  lrange(key: string, start: number, end: number): this {
    return this.add(['LRANGE', key, start, end]);
  }
  llen(key: string): this {
    return this.add(['LLEN', key]);
  }
  del(...keys: string[]): this {
    return keys.length === 0 ? this : this.add(['DEL', ...keys]);
  }
  runCommand(name: string, args: unknown[]): this {
    const { script, argv } = this.client.scriptCommand(name, args);
    return this.add(['EVALSHA', script.sha, script.numberOfKeys, ...argv]);
  }

  async exec(): Promise<[Error | null, unknown][] | null> {
    if (this.commands.length === 0) return [];
    const pairs = (replies: readonly Reply[]): [Error | null, unknown][] =>
      replies.map((reply, i) => (reply instanceof ReplyError ? [reply, null] : [null, (this.transforms[i] ?? ((r: Reply) => r))(reply)]));
    if (!this.atomic) return pairs(await this.client.sendMany(this.commands));
    const replies = await this.client.sendMany([['MULTI'], ...this.commands, ['EXEC']]);
    const exec = replies[replies.length - 1] ?? null;
    if (exec instanceof ReplyError) throw exec;
    return Array.isArray(exec) ? pairs(exec) : null;
  }
}
