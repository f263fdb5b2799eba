import { type IncomingMessage, METHODS, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { HttpGuardError, MAX_JSON_DEPTH } from './http-guard.error';
import { problemDocument, type ProblemDocument, PROBLEM_CONTENT_TYPE, requestPath } from './problem-details.filter';

/**
 * Guards every service's HTTP server applies before a controller sees a request (issue 12):
 * bounded bodies and JSON, no NUL (PostgreSQL cannot store it in text or jsonb, so it is
 * refused at the edge rather than failing deep inside a write), 405 for a known path with
 * the wrong method, and problem documents for what Node itself refuses (400, 408, 431).
 */

/** `512kb`, `1mb`, `100b` (as WEFT_API_BODY_LIMIT and body-parser take them) in bytes. */
export function byteSize(text: string): number {
  const match = /^(\d+)(b|kb|mb|gb)?$/i.exec(text.trim());
  if (!match) throw new RangeError(`expected a size such as 512kb or 1mb, got ${text}`);
  const unit = (match[2] ?? 'b').toLowerCase();
  return Number(match[1]) * (unit === 'gb' ? 1024 ** 3 : unit === 'mb' ? 1024 ** 2 : unit === 'kb' ? 1024 : 1);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Checks a JSON text's shape before JSON.parse builds it: depth at most `maxDepth`, no key
 * twice in one object, no `\u0000`. One pass, no recursion (a 10,000-deep body cannot blow
 * the stack); malformed JSON is left to the parser, which answers MALFORMED_JSON.
 */
export function checkJsonShape(text: string, maxDepth = MAX_JSON_DEPTH): void {
  // Per open container: the keys seen so far (objects) or null (arrays).
  const stack: (Set<string> | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i;
      let escaped = false;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) {
          escaped = true;
          if (text.charCodeAt(i + 1) === 0x75 && /^u0000$/i.test(text.slice(i + 1, i + 6))) throw new HttpGuardError('NUL_CHARACTER', 'the body holds a NUL character (\\u0000), which cannot be stored');
          i++;
        } else if (d === QUOTE) break;
        else if (d === 0) throw new HttpGuardError('NUL_CHARACTER', 'the body holds a NUL character, which cannot be stored');
      }
      const top = stack[stack.length - 1];
      if (top) {
        let j = i + 1;
        while (j < text.length && /\s/.test(text[j])) j++;
        if (text[j] === ':') {
          const raw = text.slice(start, i + 1);
          let key = raw.slice(1, -1);
          if (escaped) {
            try {
              key = JSON.parse(raw) as string;
            } catch {
              return; // malformed: the parser reports it
            }
          }
          if (top.has(key)) throw new HttpGuardError('DUPLICATE_JSON_KEY', `the body gives key ${JSON.stringify(key.slice(0, 100))} twice in one object`);
          top.add(key);
        }
      }
    } else if (c === 0x7b || c === 0x5b) {
      stack.push(c === 0x7b ? new Set() : null);
      if (stack.length > maxDepth) throw new HttpGuardError('JSON_TOO_DEEP', `the body nests arrays and objects deeper than ${maxDepth} levels`);
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
    } else if (c === 0) {
      throw new HttpGuardError('NUL_CHARACTER', 'the body holds a NUL character, which cannot be stored');
    }
  }
}

/** body-parser's `verify` hook: the shape check on the raw body. */
export function verifyJsonBody(_request: IncomingMessage, _response: ServerResponse, body: Buffer, encoding: string): void {
  checkJsonShape(body.toString((encoding as BufferEncoding | undefined) ?? 'utf8'));
}

/** The declared Content-Length, or undefined (chunked or none); NaN when it is not a number. */
function declaredLength(request: IncomingMessage): number | undefined {
  const value = request.headers['content-length'];
  return value === undefined ? undefined : /^\d+$/.test(value) ? Number(value) : Number.NaN;
}

/**
 * A body declared larger than `limit`: the connection closes once the answer is out, so Node
 * does not read (and drop) the whole declared body first. The answer itself is the app's
 * error handling's (the API checks the caller's key first, as for every refused body).
 */
function tooLarge(request: IncomingMessage, response: ServerResponse, limit: number, declared: number): HttpGuardError {
  response.setHeader('Connection', 'close');
  response.on('finish', () => request.socket.destroySoon());
  return new HttpGuardError('PAYLOAD_TOO_LARGE', `the body declares ${declared} bytes; this server accepts at most ${limit}`);
}

/** What the guard reads of an express router layer. */
export interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean | undefined> };
  match(path: string): unknown;
}

/** A route for every method: Nest's middleware for RequestMethod.ALL (express 5's `all()` lists each method), static files. */
const everyMethod = new WeakMap<object, boolean>();
function forEveryMethod(methods: Record<string, boolean | undefined>): boolean {
  let all = everyMethod.get(methods);
  if (all === undefined) everyMethod.set(methods, (all = methods._all === true || METHODS.every((m) => methods[m.toLowerCase()] === true)));
  return all;
}

/** The methods routes of `stack` serve at `path` (routes for every method, such as middleware or static files, are not counted). */
export function allowedMethods(stack: readonly RouteLayer[], path: string): string[] {
  const methods = new Set<string>();
  for (const layer of stack) {
    if (!layer.route || forEveryMethod(layer.route.methods) || !layer.match(path)) continue;
    for (const [method, on] of Object.entries(layer.route.methods)) if (on === true) methods.add(method.toUpperCase());
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

function decodedOrUndefined(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

export interface RequestGuardOptions {
  /** Largest body, in bytes. */
  bodyLimit: number;
  /** The app's router layers, read on each request (routes are added after the guard is). */
  routes(): readonly RouteLayer[];
}

/**
 * The first middleware of every service: refuses a declared body above the limit (413,
 * before a byte is read), a path or query with NUL or broken percent-encoding (400), and a
 * known path asked with a method it does not serve (405 with `Allow`). Each goes on to the
 * app's error handling (`next(error)`), so the API checks the caller's key first.
 */
export function requestGuard(options: RequestGuardOptions): (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => void {
  return (request, response, next) => {
    const declared = declaredLength(request);
    if (declared !== undefined && !(declared <= options.bodyLimit)) return next(tooLarge(request, response, options.bodyLimit, declared));
    const url = request.url ?? '/';
    const decoded = decodedOrUndefined(url);
    if (decoded === undefined) return next(new HttpGuardError('MALFORMED_URL', 'the path or query string is not valid percent-encoded UTF-8'));
    if (decoded.includes('\u0000')) return next(new HttpGuardError('NUL_CHARACTER', 'the path or query string holds a NUL character (%00)'));
    const method = request.method ?? 'GET';
    if (method !== 'OPTIONS') {
      const allowed = allowedMethods(options.routes(), requestPath(request));
      if (allowed.length > 0 && !allowed.includes(method)) {
        response.setHeader('Allow', allowed.join(', '));
        return next(new HttpGuardError('METHOD_NOT_ALLOWED', `${method} is not served at ${requestPath(request)}; allowed: ${allowed.join(', ')}`));
      }
    }
    next();
  };
}

/** A problem document written straight on a socket: for what Node refuses before there is a response object. */
function rawProblem(problem: ProblemDocument): string {
  const body = JSON.stringify(problem);
  return [
    `HTTP/1.1 ${problem.status} ${problem.title}`,
    `Content-Type: ${PROBLEM_CONTENT_TYPE}; charset=utf-8`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/** The problem Node's own refusal of a request becomes (clientError). */
export function clientErrorProblem(error: NodeJS.ErrnoException): ProblemDocument {
  if (error.code === 'HPE_HEADER_OVERFLOW') return problemDocument(431, 'HEADERS_TOO_LARGE', 'the request headers are larger than this server accepts');
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return problemDocument(408, 'REQUEST_TIMEOUT', 'the request took too long to arrive');
  return problemDocument(400, 'BAD_REQUEST', 'the request is not valid HTTP/1.1');
}

/**
 * Node answers what it cannot parse with a bare `400`/`431` and no body; here those answers
 * are problem documents too. `Expect: 100-continue` with a body above the limit gets 413
 * instead of a `100 Continue`.
 */
export function guardServer(server: Server, bodyLimit: number): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    socket.end(rawProblem(clientErrorProblem(error)));
  });
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    const declared = declaredLength(request);
    // Too large: no `100 Continue`, so the client never sends it; the request guard answers 413.
    if (declared === undefined || declared <= bodyLimit) response.writeContinue();
    server.emit('request', request, response);
  });
}
