import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWorkflow } from '@weft/core';
import type { TemplateView } from '../api.schemas';

/** The workflow templates a deployment offers (the SDK's, when the composition root passes them). */
export type TemplateSource = () => TemplateView[];

export const TEMPLATES = Symbol('WEFT_API_TEMPLATES');

export const noTemplates: TemplateSource = () => [];

export class TemplatesDirectoryError extends Error {
  readonly code = 'TEMPLATES_INVALID';
}

/**
 * Templates from a directory of workflow files (`<name>.yaml`), read and validated
 * once at boot. The standalone scheduler cannot import the SDK, so it reads the same
 * files the SDK ships (WEFT_TEMPLATES_DIR).
 */
export function templatesFromDirectory(dir: string): TemplateSource {
  const views: TemplateView[] = [];
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const path = join(dir, file);
    const { spec, diagnostics } = parseWorkflow(readFileSync(path, 'utf8'), path);
    if (!spec) throw new TemplatesDirectoryError(`template ${path} is invalid: ${diagnostics.map((d) => `${d.line}:${d.col} ${d.path}: ${d.message}`).join('; ')}`);
    views.push({ name: spec.name, description: spec.description ?? '', spec });
  }
  return () => structuredClone(views);
}
