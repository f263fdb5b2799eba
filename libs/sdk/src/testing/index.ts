// `@weft/sdk/testing`: run a spec in-process to check its expressions and result passing. Tests only.
export * from './dry-run.util';
