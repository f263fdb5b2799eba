import { readFile } from 'node:fs/promises';
import type { Diagnostic } from '@weft/core';
import type { ApiFlags } from '../api-client/api-connection';
import { EXIT } from '../exit-codes';
import { loadWorkflow, printDiagnostics } from '../load-workflow';
import type { Io } from '../io';

/** With `api`, a deployment's POST /v1/validate validates instead of this process. */
export type ValidateFlags = ApiFlags;

/**
 * `weft validate <files...>`: every problem of every file; exit 0 when all are valid, 2 otherwise.
 * With `--api`, the deployment validates each file's text (POST /v1/validate) and its
 * diagnostics are printed the same way; 70 when it fails or cannot be reached.
 */
export async function validateCommand(files: string[], io: Io, flags: ValidateFlags = {}): Promise<number> {
  if (flags.api !== undefined) return validateRemote(files, flags, io);
  let invalid = 0;
  for (const file of files) {
    const loaded = await loadWorkflow(file);
    printDiagnostics(loaded.diagnostics, io.err);
    if (loaded.spec) io.out(`${file}: ok (${loaded.spec.name}, ${loaded.spec.steps.length} steps)`);
    else invalid++;
  }
  return summary(invalid, files.length, io);
}

async function validateRemote(files: string[], flags: ValidateFlags, io: Io): Promise<number> {
  // Loaded here: the API client pulls in the SDK (worker, NATS, undici), ~0.3 s a local validate need not pay.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { apiClient, withApi } = require('../api-client/api-connection') as typeof import('../api-client/api-connection');
  return withApi(io, async () => {
    const client = apiClient(flags);
    let invalid = 0;
    for (const file of files) {
      let source: string;
      try {
        source = await readFile(file, 'utf8');
      } catch {
        // Said as weft validate says it: FILE_UNREADABLE at file:1:1.
        printDiagnostics((await loadWorkflow(file)).diagnostics, io.err);
        invalid++;
        continue;
      }
      const result = await client.validate({ source });
      printDiagnostics(
        result.diagnostics.map((d): Diagnostic => ({ ...d, file, line: d.line ?? 0, col: d.col ?? 0 })),
        io.err,
      );
      if (result.valid) io.out(`${file}: ok (${result.name ?? 'unnamed'})`);
      else invalid++;
    }
    return summary(invalid, files.length, io);
  });
}

function summary(invalid: number, total: number, io: Io): number {
  if (invalid > 0) io.err(`${invalid} of ${total} file(s) invalid`);
  return invalid > 0 ? EXIT.invalid : EXIT.ok;
}
