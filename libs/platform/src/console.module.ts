import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { type DynamicModule, Inject, Injectable, type MiddlewareConsumer, Module, type NestMiddleware, type NestModule, RequestMethod } from '@nestjs/common';
import { requestPath } from './problem-details.filter';

/** Paths that are the API's or the service's own: never answered with the console. */
const RESERVED = /^\/(v1|health|metrics|openapi\.json)(\/|$)/;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};

/**
 * Everything the page loads comes from this server: scripts, styles, the layout worker
 * and the API. Inline style attributes are allowed (the graph positions its nodes with them).
 */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; worker-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

export interface ConsoleOptions {
  /** The built console (apps/console/dist): index.html and assets/; null when the console package is not installed. */
  dir: string | null;
}

const CONSOLE_OPTIONS = Symbol('WEFT_CONSOLE_OPTIONS');

/**
 * The console's build in this checkout or image: apps/console/dist next to libs/ (the way
 * the scheduler finds the SDK's templates). Absent until `npm ci` (or
 * `npm run build -w @weft/console`) built it; ConsoleModule then says how.
 */
export function consoleDistDir(): string {
  return path.join(__dirname, '..', '..', '..', 'apps', 'console', 'dist');
}

/**
 * Serves the web console's static build at `/`: a file that exists is sent (hashed
 * assets cached for a year), any other path that is not the API's answers index.html,
 * so a deep link such as /runs/<id> opens the page that shows it (History API routing).
 */
@Injectable()
export class ConsoleStaticMiddleware implements NestMiddleware<IncomingMessage, ServerResponse> {
  private readonly root: string | null;

  constructor(@Inject(CONSOLE_OPTIONS) options: ConsoleOptions) {
    this.root = options.dir === null ? null : path.resolve(options.dir);
  }

  use(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const urlPath = requestPath(req);
    if (RESERVED.test(urlPath)) return next();
    if (this.root === null) return urlPath === '/' ? notBuilt(res, 'the @weft/console package is not installed') : next();
    let decoded: string;
    try {
      decoded = decodeURIComponent(urlPath);
    } catch {
      return next();
    }
    const file = path.resolve(this.root, `.${decoded}`);
    // Never outside the build folder (`/../..`, encoded dots).
    if (file !== this.root && !file.startsWith(this.root + path.sep)) return next();
    if (decoded !== '/' && isFile(file)) return this.send(req, res, file, decoded.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    // A missing asset is a 404, not the page: a stale tab asking for an old chunk should fail loudly.
    if (decoded.startsWith('/assets/') || path.extname(decoded) !== '') return next();
    const index = path.join(this.root, 'index.html');
    if (!isFile(index)) return notBuilt(res, `looked in ${this.root}`);
    this.send(req, res, index, 'no-cache');
  }

  private send(req: IncomingMessage, res: ServerResponse, file: string, cacheControl: string): void {
    const { size } = statSync(file);
    res.statusCode = 200;
    res.setHeader('Content-Type', TYPES[path.extname(file)] ?? 'application/octet-stream');
    res.setHeader('Content-Length', size);
    res.setHeader('Cache-Control', cacheControl);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (file.endsWith('.html')) {
      res.setHeader('Content-Security-Policy', CONSOLE_CSP);
      res.setHeader('Referrer-Policy', 'no-referrer');
    }
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file)
      .on('error', (error) => res.destroy(error))
      .pipe(res);
  }
}

function notBuilt(res: ServerResponse, why: string): void {
  res.statusCode = 503;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(`The web console is not built (${why}). Build it with: npm run build -w @weft/console\n`);
}

function isFile(file: string): boolean {
  try {
    return existsSync(file) && statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Mount with `ConsoleModule.serve(consoleDistDir())` next to a service's API (weft dev, the scheduler). */
@Module({})
export class ConsoleModule implements NestModule {
  static serve(dir: string | null): DynamicModule {
    return { module: ConsoleModule, providers: [{ provide: CONSOLE_OPTIONS, useValue: { dir } satisfies ConsoleOptions }, ConsoleStaticMiddleware] };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(ConsoleStaticMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
