import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Diagnostic } from '@weft/core';
import type { ApiFlags } from '../api-client/api-connection';
import { knownWithoutModules, loadUserActions, unknownActions } from '../actions-check';
import { EXIT } from '../exit-codes';
import { loadWorkflow, printDiagnostics } from '../load-workflow';
import type { Io } from '../io';

/** With `api`, a deployment's POST /v1/validate validates instead of this process. */
export interface ValidateFlags extends ApiFlags {
  /** --actions modules: every `action:` must then be a built-in or one of theirs. */
  actions?: string[];
  /** One JSON document on stdout instead of lines. */
  json?: boolean;
}

/** What `--json` prints for one file. */
interface FileVerdict {
  file: string;
  valid: boolean;
  name: string | null;
  steps: number | null;
  diagnostics: Diagnostic[];
}

const WORKFLOW_FILE = /\.(ya?ml|json)$/i;

/** Files as given; a directory stands for the YAML/JSON workflow files in it (not recursive, sorted). */
export async function expandFiles(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (info?.isDirectory()) {
      const inside = (await readdir(path)).filter((name) => WORKFLOW_FILE.test(name)).sort();
      files.push(...inside.map((name) => join(path, name)));
    } else files.push(path);
  }
  return files;
}

/**
 * `weft validate <files...>`: every problem of every file; exit 0 when all are valid, 2 otherwise.
 * With `--api`, the deployment validates each file's text (POST /v1/validate) and its
 * diagnostics are printed the same way; 70 when it fails or cannot be reached.
 */
export async function validateCommand(paths: string[], io: Io, flags: ValidateFlags = {}): Promise<number> {
  const files = await expandFiles(paths);
  if (files.length === 0) {
    io.err(`no workflow files (.yaml, .yml, .json) in ${paths.join(', ')}`);
    return EXIT.invalid;
  }
  if (flags.api !== undefined) return validateRemote(files, flags, io);
  let known: string[] | undefined;
  if (flags.actions !== undefined && flags.actions.length > 0) {
    try {
      known = [...knownWithoutModules(), ...(await loadUserActions(flags.actions)).map((a) => a.name)];
    } catch (error) {
      io.err(error instanceof Error ? error.message : String(error));
      return EXIT.invalid;
    }
  }
  const verdicts: FileVerdict[] = [];
  for (const file of files) {
    const loaded = await loadWorkflow(file);
    const unknown = loaded.spec && known ? await unknownActions(loaded.spec, file, known) : [];
    const diagnostics = [...loaded.diagnostics, ...unknown];
    const valid = loaded.spec !== undefined && unknown.length === 0;
    verdicts.push({ file, valid, name: loaded.spec?.name ?? null, steps: loaded.spec?.steps.length ?? null, diagnostics });
    if (flags.json) continue;
    printDiagnostics(diagnostics, io.err);
    if (valid && loaded.spec) io.out(`${file}: ok (${loaded.spec.name}, ${loaded.spec.steps.length} steps)`);
  }
  const invalid = verdicts.filter((v) => !v.valid).length;
  if (flags.json) {
    io.out(JSON.stringify({ valid: invalid === 0, files: verdicts }, null, 2));
    return invalid > 0 ? EXIT.invalid : EXIT.ok;
  }
  return summary(invalid, files.length, io);
}

async function validateRemote(files: string[], flags: ValidateFlags, io: Io): Promise<number> {
  // Loaded here: the API client pulls in the SDK (worker, NATS, undici), ~0.3 s a local validate need not pay.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { apiClient, withApi } = require('../api-client/api-connection') as typeof import('../api-client/api-connection');
  return withApi(io, async () => {
    const client = apiClient(flags);
    // The deployment's catalog (built-ins and what its workers announce), asked once a file is
    // valid. Unknown names are warnings, not errors: a worker may announce them after this check.
    // A deployment that cannot list it (an older one) leaves the check out.
    let catalog: Promise<string[] | undefined> | undefined;
    const catalogNames = (): Promise<string[] | undefined> =>
      (catalog ??= client.catalog.actions().then(
        (items) => items.map((a) => a.name),
        () => undefined,
      ));
    const verdicts: FileVerdict[] = [];
    for (const file of files) {
      let source: string;
      try {
        source = await readFile(file, 'utf8');
      } catch {
        // Said as weft validate says it: FILE_UNREADABLE at file:1:1.
        const { diagnostics } = await loadWorkflow(file);
        verdicts.push({ file, valid: false, name: null, steps: null, diagnostics });
        if (!flags.json) printDiagnostics(diagnostics, io.err);
        continue;
      }
      const result = await client.validate({ source });
      const local = result.valid ? (await loadWorkflow(file)).spec : undefined;
      const names = local ? await catalogNames() : undefined;
      const unknown = local && names ? await unknownActions(local, file, [...knownWithoutModules(), ...names], { source: 'catalog', warnOnly: true }) : [];
      const diagnostics = [...result.diagnostics.map((d): Diagnostic => ({ ...d, file, line: d.line ?? 0, col: d.col ?? 0 })), ...unknown];
      verdicts.push({ file, valid: result.valid, name: result.name ?? null, steps: local?.steps.length ?? null, diagnostics });
      if (flags.json) continue;
      printDiagnostics(diagnostics, io.err);
      if (result.valid) io.out(`${file}: ok (${result.name ?? 'unnamed'})`);
    }
    const invalid = verdicts.filter((v) => !v.valid).length;
    if (flags.json) {
      io.out(JSON.stringify({ valid: invalid === 0, files: verdicts }, null, 2));
      return invalid > 0 ? EXIT.invalid : EXIT.ok;
    }
    return summary(invalid, files.length, io);
  });
}

function summary(invalid: number, total: number, io: Io): number {
  if (invalid > 0) io.err(`${invalid} of ${total} file(s) invalid`);
  return invalid > 0 ? EXIT.invalid : EXIT.ok;
}
