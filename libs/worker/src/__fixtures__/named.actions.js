// CommonJS, named exports: each exported function is an action named after its export.
exports.greet = (input) => ({ greeting: `hello ${input.name}` });
exports['email.send'] = async (input, ctx) => ({ sent: input.to, attempt: ctx.attempt });
