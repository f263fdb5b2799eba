import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ActionsModuleError } from './action.errors';
import type { ActionDefinition, ActionHandler } from './action.types';

/**
 * Loads user actions from a CommonJS or ES module (`weft worker --actions ./my-actions.js`).
 * Accepted shapes, first match wins:
 * - `export const actions = { 'email.send': fn | definition, ... }` (or `module.exports.actions`);
 * - a default export object mapping names to functions or definitions
 *   (`export default {...}`, or `module.exports = {...}` in CommonJS);
 * - named exports that are functions (the export name is the action name) or definitions
 *   (`export const greet = defineAction({ name: 'greet', handler })`: their own name).
 */
export async function loadActionsModule(path: string): Promise<ActionDefinition[]> {
  const file = resolve(path);
  if (!existsSync(file)) throw new ActionsModuleError(file, 'actions module not found');
  const namespace = await importModule(file);
  return actionsFromNamespace(file, namespace);
}

async function importModule(file: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (importError) {
    // Some hosts cannot import() here: a transpiler rewrote it into require(file URL), or a VM
    // has no module loader. require() reads CommonJS, and ES modules on Node >= 20.19.
    // Errors thrown by the module itself are reported as they are: it must not run twice.
    if (!isLoaderError(importError)) throw new ActionsModuleError(file, `failed to load: ${messageOf(importError)}`, { cause: importError });
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require(file) as Record<string, unknown>;
    } catch (requireError) {
      throw new ActionsModuleError(file, `failed to load: ${messageOf(requireError)}`, { cause: requireError });
    }
  }
}

// ERR_UNKNOWN_FILE_EXTENSION: import() of a .ts file, which a require hook (swc) compiles.
const LOADER_ERROR_CODES = new Set(['ERR_UNKNOWN_FILE_EXTENSION', 'MODULE_NOT_FOUND', 'ERR_MODULE_NOT_FOUND', 'ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING', 'ERR_UNSUPPORTED_ESM_URL_SCHEME', 'ERR_REQUIRE_ESM']);
// Duck-typed: errors raised by the host's loader may come from another realm (jest's VM).
const isLoaderError = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' && LOADER_ERROR_CODES.has(error.code);
const messageOf = (error: unknown): string =>
  typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string' ? error.message : String(error);
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export function actionsFromNamespace(file: string, namespace: Record<string, unknown>): ActionDefinition[] {
  const defaultExport = namespace.default;
  if (isObject(namespace.actions)) return fromMap(file, namespace.actions, 'export "actions"');
  if (isObject(defaultExport) && isObject(defaultExport.actions)) return fromMap(file, defaultExport.actions, 'export "actions"');
  // CommonJS seen through import() lands here too: module.exports arrives as `default`.
  if (isObject(defaultExport)) return fromMap(file, defaultExport, 'exports');

  const named = Object.entries(namespace).filter(([key]) => key !== 'default' && key !== '__esModule');
  if (named.length === 0) {
    const hint = typeof defaultExport === 'function' ? ' (a default-exported function has no action name: export it by name)' : '';
    throw new ActionsModuleError(file, `exports no actions${hint}: export handler functions by name, a default object of them, or an "actions" object`);
  }
  return named.map(([name, value]): ActionDefinition => {
    // `export const greet = defineAction({ name: 'greet', ... })`: the definition names itself.
    if (isObject(value) && typeof value.handler === 'function') {
      return { ...(value as Omit<ActionDefinition, 'name'>), name: typeof value.name === 'string' ? value.name : name };
    }
    if (typeof value !== 'function') throw new ActionsModuleError(file, `export "${name}" is not a function or an action definition (every named export must be an action handler or defineAction(...))`);
    return { name, handler: value as ActionHandler };
  });
}

function fromMap(file: string, map: Record<string, unknown>, where: string): ActionDefinition[] {
  const definitions = Object.entries(map).map(([name, value]): ActionDefinition => {
    if (typeof value === 'function') return { name, handler: value as ActionHandler };
    if (isObject(value) && typeof value.handler === 'function') {
      if (value.name !== undefined && value.name !== name) {
        throw new ActionsModuleError(file, `${where}: action "${name}" is declared with a different name "${String(value.name)}"`);
      }
      return { ...(value as Omit<ActionDefinition, 'name'>), name };
    }
    throw new ActionsModuleError(file, `${where}: "${name}" is not a function or an action definition ({ handler })`);
  });
  if (definitions.length === 0) throw new ActionsModuleError(file, `${where} holds no actions`);
  return definitions;
}
