// CommonJS, an `actions` object mapping names (with dots) to handlers or definitions.
module.exports = {
  actions: {
    'email.send': { description: 'Sends an email', inputSchema: { type: 'object' }, handler: (input) => ({ sent: input.to }) },
    'math.double': (input) => input.n * 2,
  },
};
