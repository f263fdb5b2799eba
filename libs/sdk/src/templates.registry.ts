import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { hasErrors, type InputDecl, parseWorkflow, type WorkflowSpec } from '@weft/core';
import { validateWorkflow } from './builder/validate-workflow.util';
import { TemplateNotFoundError, TemplateOverrideError, WorkflowBuildError } from './sdk.error';

/** Where the template YAML files live, for tools (CLI, API) that list or copy them. */
export const TEMPLATES_DIR = path.join(__dirname, '..', 'templates');

export interface TemplateInfo {
  name: string;
  description: string;
}

export interface TemplateOverrides {
  /** Workflow name of the result (templates are named after themselves). */
  name?: string;
  description?: string;
  /** Replaces a step's action, e.g. `{ deploy: 'k8s.deploy' }`; the step keeps its `with` unless `with` overrides it too. */
  actions?: Record<string, string>;
  /** Replaces a step's `with` entirely (the old one belonged to the old action). */
  with?: Record<string, Record<string, unknown>>;
  /** Merged into the template's input declarations, e.g. `{ environment: { default: 'production' } }`; a new input needs a `type`. */
  inputs?: Record<string, Partial<InputDecl>>;
}

let cache: Map<string, WorkflowSpec> | undefined;

/** Reads every template once; an invalid template file is a packaging bug, reported loudly. */
function load(): Map<string, WorkflowSpec> {
  if (cache) return cache;
  const loaded = new Map<string, WorkflowSpec>();
  for (const file of readdirSync(TEMPLATES_DIR).filter((f) => f.endsWith('.yaml')).sort()) {
    const full = path.join(TEMPLATES_DIR, file);
    const name = path.basename(file, '.yaml');
    const { spec, diagnostics } = parseWorkflow(readFileSync(full, 'utf8'), full);
    if (!spec || hasErrors(diagnostics)) throw new WorkflowBuildError(name, diagnostics);
    loaded.set(name, spec);
  }
  cache = loaded;
  return loaded;
}

function list(): TemplateInfo[] {
  return [...load().entries()].map(([name, spec]) => ({ name, description: spec.description ?? '' }));
}

/** A template's spec with overrides applied and validated; a fresh copy on every call. */
function get(name: string, overrides: TemplateOverrides = {}): WorkflowSpec {
  const all = load();
  const template = all.get(name);
  if (!template) throw new TemplateNotFoundError(name, [...all.keys()]);
  const spec = structuredClone(template);
  const stepIds = spec.steps.map((s) => s.id);
  const unknownStep = (kind: string, id: string): TemplateOverrideError =>
    new TemplateOverrideError(name, `${kind} override names unknown step "${id}"; steps are: ${stepIds.join(', ')}`);

  for (const [id, action] of Object.entries(overrides.actions ?? {})) {
    const target = spec.steps.find((s) => s.id === id);
    if (!target) throw unknownStep('action', id);
    target.action = action;
  }
  for (const [id, value] of Object.entries(overrides.with ?? {})) {
    const target = spec.steps.find((s) => s.id === id);
    if (!target) throw unknownStep('with', id);
    target.with = structuredClone(value);
  }
  for (const [input, decl] of Object.entries(overrides.inputs ?? {})) {
    const existing = spec.inputs?.[input];
    if (!existing && decl.type === undefined) {
      throw new TemplateOverrideError(name, `input "${input}" is not declared by the template (inputs are: ${Object.keys(spec.inputs ?? {}).join(', ')}); a new input needs a type`);
    }
    spec.inputs = { ...spec.inputs, [input]: { ...existing, ...structuredClone(decl) } as InputDecl };
  }
  if (overrides.name !== undefined) spec.name = overrides.name;
  if (overrides.description !== undefined) spec.description = overrides.description;

  const diagnostics = validateWorkflow(spec);
  if (hasErrors(diagnostics)) throw new WorkflowBuildError(spec.name, diagnostics);
  return spec;
}

/** Built-in workflow templates: `templates.get('ci-cd', { actions: { deploy: 'k8s.deploy' } })`. */
export const templates = { list, get, dir: TEMPLATES_DIR };
