// The root config's rules, applied to the console's .ts and .tsx files (the root
// `npm run lint` covers libs, services, bench, test and examples only).
import root from '../../eslint.config.mjs';

export default [
  ...root,
  {
    files: ['**/*.tsx'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  },
];
