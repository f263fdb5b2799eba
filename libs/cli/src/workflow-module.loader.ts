import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Diagnostic, parseWorkflow, type WorkflowSpec } from '@weft/core';

/** Files `weft run` / `weft validate` load as code (a module that exports a workflow), not as YAML. */
export const CODE_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);
const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts']);

export const isWorkflowModule = (file: string): boolean => CODE_EXTENSIONS.has(extname(file).toLowerCase());

/** Something a module may export as its workflow: an SDK builder (anything with `toSpec()`) or a spec object. */
function asSpec(value: unknown): WorkflowSpec | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if ('toSpec' in value && typeof value.toSpec === 'function') return (value.toSpec as () => WorkflowSpec).call(value);
  if ('apiVersion' in value && 'steps' in value) return value as WorkflowSpec;
  return undefined;
}

const problem = (file: string, code: string, message: string, hint?: string): Diagnostic => ({
  file,
  line: 0,
  col: 0,
  path: '',
  code,
  message,
  severity: 'error',
  ...(hint !== undefined && { hint }),
});

/**
 * The TypeScript hook for `.ts` workflow and actions modules. The repository's bin has it
 * already (it runs the CLI from sources); an installed CLI registers it on first need, so
 * YAML-only users never load swc.
 */
export function ensureTypeScriptHook(): void {
  if (require.extensions['.ts'] !== undefined) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('@swc-node/register');
}

async function importModule(file: string): Promise<Record<string, unknown>> {
  if (TS_EXTENSIONS.has(extname(file).toLowerCase())) {
    ensureTypeScriptHook();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file) as Record<string, unknown>;
  }
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    // Run from sources, swc turns this import() into require(file URL): require the path instead.
    // (Errors the module itself throws are not loader errors: it must not run twice.)
    if (!isLoaderError(error, file)) throw error;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file) as Record<string, unknown>;
  }
}

const isLoaderError = (error: unknown, file: string): boolean =>
  error instanceof Error &&
  'code' in error &&
  (error.code === 'ERR_UNSUPPORTED_ESM_URL_SCHEME' || error.code === 'ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING' || (error.code === 'MODULE_NOT_FOUND' && error.message.includes(pathToFileURL(file).href)));

/** What to do about a module the workflow file imports but its project lacks. */
function hintFor(error: unknown): string | undefined {
  const missing = error instanceof Error ? /Cannot find (?:module|package) '(@weft\/[a-z-]+)/.exec(error.message)?.[1] : undefined;
  return missing !== undefined ? `install it in the workflow's project: npm install ${missing} (weft init makes a project with it)` : undefined;
}

/**
 * Loads a workflow from a module: its default export, else its one exported workflow.
 * The spec is validated like a file (line/col are 0: positions in generated YAML mean nothing).
 */
export async function loadWorkflowModule(path: string): Promise<{ spec?: WorkflowSpec; diagnostics: Diagnostic[] }> {
  const file = resolve(path);
  if (!existsSync(file)) return { diagnostics: [problem(path, 'FILE_UNREADABLE', 'file not found')] };
  let namespace: Record<string, unknown>;
  try {
    namespace = await importModule(file);
  } catch (error) {
    return { diagnostics: [problem(path, 'MODULE_LOAD_FAILED', `failed to load: ${loadErrorMessage(error, file)}`, hintFor(error))] };
  }
  const fromDefault = asSpec(namespace.default);
  const named = Object.entries(namespace)
    .filter(([key]) => key !== 'default' && key !== '__esModule')
    .map(([key, value]) => [key, asSpec(value)] as const)
    .filter((entry): entry is readonly [string, WorkflowSpec] => entry[1] !== undefined);
  // CommonJS seen through import(): module.exports arrives as `default`, its fields as named exports.
  const candidates = fromDefault !== undefined ? [['default', fromDefault] as const] : named;
  if (candidates.length !== 1) {
    const found = candidates.length === 0 ? 'exports no workflow' : `exports ${candidates.length} workflows (${candidates.map(([k]) => k).join(', ')})`;
    return {
      diagnostics: [problem(path, 'NO_WORKFLOW_EXPORT', found, 'export one builder (workflow(...) of @weft/sdk) or spec object as the default export')],
    };
  }
  const [, spec] = candidates[0];
  // The SDK loads here, not with the module: validating YAML files does not pay for it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { workflowToYaml } = require('@weft/sdk') as typeof import('@weft/sdk');
  const { spec: parsed, diagnostics } = parseWorkflow(workflowToYaml(spec), path);
  const positionless = diagnostics.map((d) => ({ ...d, line: 0, col: 0 }));
  return { spec: positionless.some((d) => d.severity === 'error') ? undefined : parsed, diagnostics: positionless };
}

/**
 * A load error in one line; a syntax error names its file:line:col. Node puts the place in
 * a CommonJS error's stack (`file:line`, the source line, a caret), swc in its message
 * (`,-[file:line:col]`); an ES module's SyntaxError has none, so `node --check` finds it.
 */
export function loadErrorMessage(error: unknown, file?: string): string {
  if (!(error instanceof Error)) return String(error);
  const swc = swcPlace(error.message);
  if (swc !== undefined) {
    const what = /^\s*x\s+(.+)$/m.exec(error.message)?.[1] ?? 'syntax error';
    return `${swc}: SyntaxError: ${what.trim()}`;
  }
  if (error.name !== 'SyntaxError') return error.message.split('\n')[0];
  const place = caretPlace(error.stack ?? '') ?? (file !== undefined ? checkedPlace(file) : undefined);
  return place !== undefined ? `${place}: SyntaxError: ${error.message}` : `SyntaxError: ${error.message}`;
}

/** swc: `,-[file:1:1]` opens the excerpt, ` 3 | code` lines, then `   :   ^` under the column. */
function swcPlace(message: string): string | undefined {
  const head = /,-\[(.+?):\d+:\d+\]/.exec(message);
  if (!head) return undefined;
  const lines = message.split('\n');
  const caretAt = lines.findIndex((line) => /^\s*:\s*\^/.test(line));
  const source = caretAt > 0 ? /^\s*(\d+)\s\|/.exec(lines[caretAt - 1]) : null;
  if (caretAt < 0 || !source) return head[1];
  const column = lines[caretAt].indexOf('^') - (lines[caretAt - 1].indexOf('|') + 2) + 1;
  return `${head[1]}:${source[1]}:${column}`;
}

/** `file:line`, the source line, a caret under the column: Node's report of a syntax error. */
function caretPlace(report: string): string | undefined {
  const lines = report.split('\n');
  const at = lines.findIndex((line) => /^(?:file:\/\/)?\/.*:\d+$/.test(line));
  if (at < 0) return undefined;
  const caret = lines[at + 2]?.indexOf('^') ?? -1;
  const where = lines[at].replace(/^file:\/\//, '');
  return caret >= 0 ? `${where}:${caret + 1}` : where;
}

function checkedPlace(file: string): string | undefined {
  try {
    execFileSync(process.execPath, ['--check', file], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
    return undefined;
  } catch (error) {
    const stderr = typeof error === 'object' && error !== null && 'stderr' in error ? String(error.stderr) : '';
    return caretPlace(stderr);
  }
}
