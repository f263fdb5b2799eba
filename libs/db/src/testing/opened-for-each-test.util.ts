/**
 * Opens a fresh `O` before each test of the enclosing `describe` and closes it after; the answer
 * reads the current one, and throws naming `what` when read outside a test (before beforeEach ran).
 * The first open may start PGlite and migrate (seconds on a loaded machine): the hook allows 60 s.
 */
export function openedForEachTest<O>(what: string, open: () => Promise<O>, close: (opened: O) => Promise<void>): () => O {
  let current: O | undefined;
  beforeEach(async () => {
    current = await open();
  }, 60_000);
  afterEach(async () => {
    const opened = current;
    current = undefined;
    if (opened !== undefined) await close(opened);
  });
  return () => {
    if (current === undefined) throw new Error(`${what}: read outside a test`);
    return current;
  };
}
