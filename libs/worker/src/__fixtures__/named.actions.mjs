// ES module, named function exports.
export function greet(input) {
  return { greeting: `hi ${input.name}` };
}
export const shout = async (input) => String(input.text).toUpperCase();
