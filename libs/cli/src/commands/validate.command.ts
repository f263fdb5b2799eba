import { EXIT } from '../exit-codes';
import { loadWorkflow, printDiagnostics } from '../load-workflow';
import type { Io } from '../io';

/** `weft validate <files...>`: every problem of every file; exit 0 when all are valid, 2 otherwise. */
export async function validateCommand(files: string[], io: Io): Promise<number> {
  let invalid = 0;
  for (const file of files) {
    const loaded = await loadWorkflow(file);
    printDiagnostics(loaded.diagnostics, io.err);
    if (loaded.spec) io.out(`${file}: ok (${loaded.spec.name}, ${loaded.spec.steps.length} steps)`);
    else invalid++;
  }
  if (invalid > 0) io.err(`${invalid} of ${files.length} file(s) invalid`);
  return invalid > 0 ? EXIT.invalid : EXIT.ok;
}
