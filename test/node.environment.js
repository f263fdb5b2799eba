// jest's node environment, plus one guard: pg's warning that a client was given a query
// while it was still executing another fails the test that caused it. pg 8 queues such a
// query and warns; pg 9 will refuse it, so the suite must never do it (issue 19).
//
// Why an environment and not a setup file: pg warns through util.deprecate, which emits
// on the real `process`; inside a test file `process` is jest's copy, whose 'warning'
// listeners never hear it. The environment runs outside the sandbox and sees the real one.
// util.deprecate warns once per loaded pg, and jest loads pg afresh for every test file,
// so every file that does it again is caught.
const { TestEnvironment } = require('jest-environment-node');

const PG_CONCURRENT_QUERY = /client\.query\(\) when the client is already executing a query/;

class PgConcurrencyError extends Error {
  constructor(warning, where) {
    super(
      `${where}: pg was given a query while its client was still executing another (${warning.message}) ` +
        'Await each query before the next on one client or query runner (no Promise.all over one connection).',
    );
    this.name = 'PgConcurrencyError';
    this.code = 'PG_CONCURRENT_QUERY';
    // the warning's stack (with --trace-deprecation, the caller's) says where
    if (warning.stack) this.stack = `${this.name}: ${this.message}\n${warning.stack.split('\n').slice(1).join('\n')}`;
  }
}

class WeftNodeEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    /** Heard since the current test started (or since the last test ended). */
    this.pending = [];
    /** Heard outside any test: in beforeAll, afterAll or at load. */
    this.outside = [];
    this.onWarning = (warning) => {
      if (warning.name === 'DeprecationWarning' && PG_CONCURRENT_QUERY.test(warning.message)) this.pending.push(warning);
    };
  }

  async setup() {
    await super.setup();
    process.on('warning', this.onWarning);
  }

  async teardown() {
    process.off('warning', this.onWarning);
    await super.teardown();
  }

  /** A warning heard while a test ran fails that test; one heard elsewhere fails the file. */
  handleTestEvent(event, state) {
    switch (event.name) {
      case 'test_start':
        this.outside.push(...this.pending.splice(0));
        break;
      case 'test_done':
        for (const warning of this.pending.splice(0)) event.test.errors.push(new PgConcurrencyError(warning, 'this test'));
        break;
      case 'run_finish':
        for (const warning of [...this.outside, ...this.pending.splice(0)]) state.unhandledErrors.push(new PgConcurrencyError(warning, 'outside a test (a hook)'));
        this.outside = [];
        break;
      default:
        break;
    }
  }
}

module.exports = WeftNodeEnvironment;
