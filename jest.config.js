// One jest run, two tiers. Unit specs are pure and fast; integration specs
// (`*.int.spec.ts`) talk to real NATS and PostgreSQL and get more time.
const fs = require('node:fs');
const swcrc = JSON.parse(fs.readFileSync(`${__dirname}/.swcrc`, 'utf8'));
delete swcrc.$schema;
const transform = { '^.+\\.(ts|js|cjs)$': ['@swc/jest', { ...swcrc, swcrc: false }] };
const common = {
  transform,
  // jest's node environment, failing a test in which pg warns of a query sent to a busy client
  testEnvironment: '<rootDir>/test/node.environment.js',
  moduleFileExtensions: ['ts', 'js', 'json'],
  setupFiles: ['reflect-metadata', '<rootDir>/test/weft-env.setup.js'],
  // cel-js ships ES modules only, and PGlite loads its WASM through import(), which
  // jest refuses without --experimental-vm-modules: swc turns both into CommonJS.
  transformIgnorePatterns: ['/node_modules/(?!(@marcbachmann/cel-js|@electric-sql/pglite)/)'],
  roots: ['<rootDir>/libs', '<rootDir>/services', '<rootDir>/test'],
};
module.exports = {
  reporters: ['default', '<rootDir>/test/summary.reporter.js'],
  projects: [
    { ...common, displayName: 'unit', testMatch: ['**/*.spec.ts'], testPathIgnorePatterns: ['\\.int\\.spec\\.ts$', '\\.pglite\\.spec\\.ts$', '/node_modules/'] },
    // Real servers (NATS, PostgreSQL), child processes, and PGlite (its WASM boot alone takes seconds).
    {
      ...common,
      displayName: 'integration',
      testMatch: ['**/*.int.spec.ts', '**/*.pglite.spec.ts'],
      slowTestThreshold: 30,
      // pg warns of a second query sent to a busy client too (pg 9 refuses it)
      setupFiles: [...common.setupFiles, '<rootDir>/test/pg-concurrency.setup.js'],
    },
  ],
};
