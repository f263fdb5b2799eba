// The root config's strict rules, applied to the console's .ts and .tsx files (the root
// `npm run lint` covers libs, services, bench, test and examples only).
import root from '../../eslint.config.mjs';

const strict = root.find((c) => c.rules?.['@typescript-eslint/no-floating-promises']);

export default [
  ...root,
  {
    ...strict,
    files: ['**/*.tsx'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  },
];
