// Integration tier only (jest.config.js): pg 8 warns of a query sent to a busy client only
// from the third one on (it checks its queue, and the second query is the queue's first).
// pg 9 refuses the second. So here any query given to a client that is still executing
// another raises the same DeprecationWarning, which test/node.environment.js turns into a
// failed test. A client in pipeline mode is meant to take several at once.
const { Client } = require('pg');

const MESSAGE =
  'Calling client.query() when the client is already executing a query is deprecated and will be removed in pg@9.0. ' +
  'Use async/await or an external async flow control mechanism instead.';

if (!Client.prototype.query.weftConcurrencyCheck) {
  const query = Client.prototype.query;
  const checked = function (...args) {
    // _activeQuery is set while a query runs and cleared before its result is delivered
    if (!this.pipeline && (this._activeQuery || this._queryQueue.length > 0)) process.emitWarning(MESSAGE, 'DeprecationWarning');
    return query.apply(this, args);
  };
  checked.weftConcurrencyCheck = true;
  Client.prototype.query = checked;
}
