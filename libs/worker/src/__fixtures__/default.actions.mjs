// ES module, a default export object mapping names to handlers or definitions.
export default {
  'report.render': { description: 'Renders a report', handler: async (input) => ({ title: String(input.title).toUpperCase() }) },
  ping: () => 'pong',
};
