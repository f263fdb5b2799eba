import { readFile } from 'node:fs/promises';
import { type Diagnostic, formatDiagnostic, parseWorkflow, type WorkflowSpec } from '@weft/core';
import { isWorkflowModule, loadWorkflowModule } from './workflow-module.loader';

export interface LoadedWorkflow {
  file: string;
  spec?: WorkflowSpec;
  diagnostics: Diagnostic[];
}

/** Reads and validates a workflow file; unreadable files become diagnostics too. */
export async function loadWorkflow(file: string): Promise<LoadedWorkflow> {
  // A .ts/.js file is a module exporting a workflow built with the SDK.
  if (isWorkflowModule(file)) return { file, ...(await loadWorkflowModule(file)) };
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : String(error);
    return { file, diagnostics: [{ file, line: 1, col: 1, path: '', code: 'FILE_UNREADABLE', message: reason, severity: 'error' }] };
  }
  const { spec, diagnostics } = parseWorkflow(text, file);
  return { file, spec: diagnostics.some((d) => d.severity === 'error') ? undefined : spec, diagnostics };
}

export function printDiagnostics(diagnostics: Diagnostic[], write: (line: string) => void): void {
  for (const d of diagnostics) {
    write(formatDiagnostic(d));
    if (d.hint) write(`  hint: ${d.hint}`);
  }
}
