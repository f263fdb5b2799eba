import { WeftError } from '@weft/contracts';

/** Stable codes of requests refused by these guards; each has one status. */
export const HTTP_GUARD_STATUS = {
  /** A declared or actual body above the server's limit (checked before reading it). */
  PAYLOAD_TOO_LARGE: 413,
  /** JSON nested deeper than MAX_JSON_DEPTH. */
  JSON_TOO_DEEP: 400,
  /** The same key twice in one JSON object. */
  DUPLICATE_JSON_KEY: 400,
  /** U+0000 in a body string, a path or a query string. */
  NUL_CHARACTER: 400,
  /** A path or query that is not valid percent-encoded UTF-8. */
  MALFORMED_URL: 400,
  /** A known path, another method: the answer carries `Allow`. */
  METHOD_NOT_ALLOWED: 405,
  /** Node could not parse the request (bad framing, bad header characters). */
  BAD_REQUEST: 400,
  /** The client took longer than the server's request timeout to send its headers. */
  REQUEST_TIMEOUT: 408,
  /** The request's headers exceed Node's limit (16 KiB by default). */
  HEADERS_TOO_LARGE: 431,
} as const;
export type HttpGuardCode = keyof typeof HTTP_GUARD_STATUS;

/** Deepest nesting of arrays and objects a JSON body may have. */
export const MAX_JSON_DEPTH = 64;

/** A request one of the guards refused. `status` and `expose` let body-parser pass it on unchanged. */
export class HttpGuardError extends WeftError<HttpGuardCode> {
  readonly status: number;
  readonly statusCode: number;
  readonly expose = true;

  constructor(code: HttpGuardCode, message: string) {
    super(code, message);
    this.status = HTTP_GUARD_STATUS[code];
    this.statusCode = this.status;
  }
}
