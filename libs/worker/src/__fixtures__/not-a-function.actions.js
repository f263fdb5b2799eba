exports.greet = () => 'hi';
exports.retries = 3;
