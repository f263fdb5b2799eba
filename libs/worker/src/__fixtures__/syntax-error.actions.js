exports.greet = () => {;
