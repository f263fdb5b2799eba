// Actions for the distributed fault tests (loaded by executors through WEFT_ACTIONS).
// Every handler appends JSON lines to `with.file`, so a test can count how often each
// step's handler ran, on which process, and whether it got to the end.
const { appendFileSync, existsSync } = require('node:fs');

function note(file, event, ctx, extra) {
  // O_APPEND writes of one short line do not interleave between processes.
  appendFileSync(file, `${JSON.stringify({ event, runId: ctx.runId, stepId: ctx.stepId, attempt: ctx.attempt, pid: process.pid, at: Date.now(), ...extra })}\n`);
}

function pause(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

/** Resolves once `file` exists (polling), or rejects when the step is aborted. */
async function until(file, signal) {
  while (!existsSync(file)) await pause(25, signal);
}

module.exports = {
  actions: {
    /**
     * with: { file, ms?, until? } — records `start`, waits `ms` and/or until the file `until`
     * exists (abortable), records `done`. `until` lets a test decide when a step may end.
     */
    'test.record': async (input, ctx) => {
      note(input.file, 'start', ctx);
      try {
        if (input.ms) await pause(Number(input.ms), ctx.signal);
        if (input.until) await until(input.until, ctx.signal);
      } catch (error) {
        note(input.file, 'aborted', ctx, { reason: String(error && error.message) });
        throw error;
      }
      note(input.file, 'done', ctx);
      return { pid: process.pid, stepId: ctx.stepId, attempt: ctx.attempt };
    },
  },
};
