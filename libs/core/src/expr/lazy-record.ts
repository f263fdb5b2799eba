/**
 * A read-only record whose values are built when read: to its readers (`record.k`, `k in record`,
 * `Object.hasOwn`, `Object.keys`, spread, JSON, cel-js's field access) a plain record of the keys
 * whose value is not undefined. A run's expression scope lists its finished steps this way, so an
 * expression reads the steps it names, not the whole run (engine/run-tx.util.ts, expressionScope).
 */

interface Source {
  read(key: string): unknown;
  keys(): readonly string[];
}

const sources = new WeakMap<object, Source>();

/**
 * The first error a lazy record's `read` threw since the last takeReadFailure(). Reads happen inside
 * an expression's evaluation, where cel-js would wrap the error into an expression error or swallow
 * it (`||`, `exists`); the evaluator takes it afterwards and throws it as it was (e.g. the
 * scheduler's BlobNotLoadedError: load the blob, decide again; not a failed step).
 */
let readFailure: { error: unknown } | undefined;

/** Takes (and clears) the error a lazy read threw, if one did. Evaluation is synchronous. */
export function takeReadFailure(): { error: unknown } | undefined {
  const failure = readFailure;
  readFailure = undefined;
  return failure;
}

const readOnly = (): never => {
  throw new TypeError('a lazy record is read-only');
};

/**
 * `read(key)` is called at most once per key (its value is kept); undefined means "no such key".
 * `candidates()` lists every key that may have a value, in order, for the first listing.
 */
export function lazyRecord<T>(read: (key: string) => T | undefined, candidates: () => readonly string[]): Record<string, T> {
  const seen = new Map<string, T | null>();
  const get = (key: string): T | undefined => {
    let value = seen.get(key);
    if (value === undefined) {
      try {
        value = read(key) ?? null;
      } catch (error) {
        readFailure ??= { error };
        throw error;
      }
      seen.set(key, value);
    }
    return value ?? undefined;
  };
  let listed: string[] | undefined;
  const keys = (): readonly string[] => (listed ??= candidates().filter((key) => get(key) !== undefined));
  const record = new Proxy(Object.create(null) as Record<string, T>, {
    get: (_target, key) => (typeof key === 'string' ? get(key) : undefined),
    has: (_target, key) => typeof key === 'string' && get(key) !== undefined,
    getOwnPropertyDescriptor: (_target, key) => {
      const value = typeof key === 'string' ? get(key) : undefined;
      return value === undefined ? undefined : { value, writable: false, enumerable: true, configurable: true };
    },
    ownKeys: () => [...keys()],
    set: readOnly,
    defineProperty: readOnly,
    deleteProperty: readOnly,
    setPrototypeOf: readOnly,
    preventExtensions: readOnly,
  });
  sources.set(record, { read: get, keys });
  return record;
}

/** A lazy record's values through `convert`, each converted when first read, or undefined when `record` is not a lazy record. */
export function mapLazyRecord(record: object, convert: (value: unknown) => unknown): Record<string, unknown> | undefined {
  const source = sources.get(record);
  if (source === undefined) return undefined;
  return lazyRecord((key) => {
    const value = source.read(key);
    return value === undefined ? undefined : convert(value);
  }, source.keys);
}
