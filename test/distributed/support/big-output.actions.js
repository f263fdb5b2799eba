// Actions for the large-payload test (loaded by executors through WEFT_ACTIONS).
module.exports = {
  actions: {
    /** with: { mb } — an output of about `mb` MB of JSON, with a marker and rows in order. */
    'test.big-output': (input) => ({
      rows: Array.from({ length: input.mb * 1024 }, (_, i) => ({ i, text: `é✓ ${'x'.repeat(990)}` })),
      marker: `found-${input.mb}`,
    }),
  },
};
