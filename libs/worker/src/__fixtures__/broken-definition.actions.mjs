export default { 'email.send': { description: 'no handler here' } };
