/** `true` only when A and B are the same type (for compile-time checks of answers against schemas). */
export type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** What a controller's method `K` answers (its resolved promise). */
export type AnswerOf<C, K extends keyof C> = C[K] extends (...args: never[]) => Promise<infer R> ? R : never;

/** The message of the error `act` throws, after checking it is a `type` carrying `code`; fails the test when `act` throws nothing. */
export function codedErrorMessage<E extends Error & { code: string }>(act: () => unknown, type: abstract new (...args: never[]) => E, code: E['code'], what = 'the call'): string {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    expect((error as E).code).toBe(code);
    return (error as E).message;
  }
  throw new Error(`${what} threw nothing; expected ${type.name} ${code}`);
}

/** A fake projection store: counts writes, fails with what `failNext` holds first, and keeps each id once. */
export class FlakyKeyedStore<V> {
  readonly kept = new Map<string, V>();
  calls = 0;
  failNext: unknown[] = [];

  /** True when `id` is new (kept now), false for one kept before. */
  protected async keep(id: string, value: V): Promise<boolean> {
    this.calls++;
    const failure = this.failNext.shift();
    if (failure !== undefined) throw failure;
    if (this.kept.has(id)) return false;
    this.kept.set(id, value);
    return true;
  }
}
