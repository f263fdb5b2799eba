/** What every Weft error accepts besides its code and message (ES2022 `cause`). */
export interface WeftErrorOptions {
  /** The error this one wraps; shown by Node's inspector and kept for logs. */
  cause?: unknown;
}

/**
 * Base of every named error in Weft: a stable machine-readable `code` (a union per library,
 * documented where it is defined), the ES2022 `cause`, and `name` taken from the concrete
 * class so subclasses need no constructor boilerplate. `instanceof` works as with `Error`.
 */
export abstract class WeftError<Code extends string = string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    options?: WeftErrorOptions,
  ) {
    // Only pass `cause` when there is one, so errors without it have no own `cause` property.
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
  }
}
