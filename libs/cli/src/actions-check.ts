import { readFile } from 'node:fs/promises';
import { closestMatch, type Diagnostic, WAIT_ACTIONS, type WorkflowSpec } from '@weft/core';
import type { ActionDefinition } from '@weft/worker';
import { isWorkflowModule, loadErrorMessage } from './workflow-module.loader';

/**
 * The worker library, loaded on first use: its entry point brings the bus (NATS) and telemetry
 * (prom-client), which `weft validate` without --actions never needs.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const worker = (): typeof import('@weft/worker') => require('@weft/worker') as typeof import('@weft/worker');

/** Actions every run knows without a module: the built-in handlers and the engine's own waits. */
export const knownWithoutModules = (): readonly string[] => [...worker().BUILTIN_ACTION_NAMES, ...Object.values(WAIT_ACTIONS)];

/** An --actions module that cannot be used, said in one line (the CLI's exit 2). */
export class ActionsCheckError extends Error {
  readonly code = 'ACTIONS_INVALID';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ActionsCheckError';
  }
}

/**
 * Loads --actions modules and refuses what would surprise at run time: a module that does not
 * load (a syntax error with its file:line:col), exports nothing, redefines a built-in action,
 * or defines an action another module already did.
 */
export async function loadUserActions(paths: readonly string[]): Promise<ActionDefinition[]> {
  const all: ActionDefinition[] = [];
  const from = new Map<string, string>();
  if (paths.length === 0) return all;
  const { ActionsModuleError, loadActionsModule } = worker();
  const known = knownWithoutModules();
  for (const path of paths) {
    let definitions: ActionDefinition[];
    try {
      definitions = await loadActionsModule(path);
    } catch (error) {
      if (error instanceof ActionsModuleError && error.cause !== undefined) {
        throw new ActionsCheckError(`${error.file}: failed to load: ${loadErrorMessage(error.cause, error.file)}`, { cause: error });
      }
      throw error instanceof ActionsModuleError ? new ActionsCheckError(error.message, { cause: error }) : error;
    }
    for (const definition of definitions) {
      if (known.includes(definition.name)) {
        throw new ActionsCheckError(`${path}: action "${definition.name}" redefines the built-in action of that name: give yours another name (e.g. "my.${definition.name}")`);
      }
      const earlier = from.get(definition.name);
      if (earlier !== undefined) throw new ActionsCheckError(`${path}: action "${definition.name}" is defined by ${earlier} too: one module per action name`);
      from.set(definition.name, path);
      all.push(definition);
    }
  }
  return all;
}

export interface ActionsCheckOptions {
  /** Where the names come from, for the hint: `--actions` modules given, or a deployment's catalog. */
  source: 'embedded' | 'catalog';
  /** Unknown actions as warnings (a deployment's workers may announce them later). @default false */
  warnOnly?: boolean;
}

/**
 * Every step's `action:` against the known names, with "did you mean" and a hint.
 * Paths name steps by id (`steps.check.action`).
 */
export function checkActions(spec: WorkflowSpec, known: Iterable<string>, file: string, options: ActionsCheckOptions): Diagnostic[] {
  const names = [...new Set(known)];
  const diagnostics: Diagnostic[] = [];
  for (const step of spec.steps) {
    if (names.includes(step.action)) continue;
    const near = closestMatch(step.action, names);
    const hint =
      options.source === 'catalog'
        ? 'no worker of the deployment announces it yet: start one with it (weft worker --actions <module>), or check the name (weft catalog actions)'
        : `pass the module that defines it: weft run ${file} --actions <module> (export it by name, or export defineAction(...))`;
    diagnostics.push({
      file,
      line: 0,
      col: 0,
      path: `steps.${step.id}.action`,
      code: 'UNKNOWN_ACTION',
      message: `unknown action "${step.action}"${near !== undefined ? `; did you mean "${near}"?` : ''}`,
      severity: options.warnOnly ? 'warning' : 'error',
      hint,
    });
  }
  return diagnostics;
}

/**
 * Gives UNKNOWN_ACTION diagnostics the line of their `action:` in a YAML file: the first
 * `action:` after the step's `id:` line. Modules (.ts/.js) keep 0 (no position in code).
 */
export function locateActions(diagnostics: Diagnostic[], text: string): Diagnostic[] {
  const lines = text.split('\n');
  return diagnostics.map((d) => {
    const id = /^steps\.([^.]+)\.action$/.exec(d.path)?.[1];
    if (id === undefined || d.code !== 'UNKNOWN_ACTION') return d;
    const idLine = lines.findIndex((line) => new RegExp(`^\\s*(-\\s+)?id:\\s*["']?${id}["']?\\s*(#.*)?$`).test(line));
    if (idLine < 0) return d;
    // Within the step's block: its action may come before or after the id (a few lines either way).
    for (const at of [...Array.from({ length: 12 }, (_, i) => idLine + i), ...Array.from({ length: 6 }, (_, i) => idLine - 1 - i)]) {
      const column = lines[at]?.search(/\baction:/) ?? -1;
      if (column >= 0) return { ...d, line: at + 1, col: column + 1 };
    }
    return d;
  });
}

/** checkActions for a workflow file, placed on its YAML lines when it is YAML. */
export async function unknownActions(spec: WorkflowSpec, file: string, known: Iterable<string>, options: ActionsCheckOptions = { source: 'embedded' }): Promise<Diagnostic[]> {
  const found = checkActions(spec, known, file, options);
  if (found.length === 0 || isWorkflowModule(file)) return found;
  const text = await readFile(file, 'utf8').catch(() => '');
  return locateActions(found, text);
}
