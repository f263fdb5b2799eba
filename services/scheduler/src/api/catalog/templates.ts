import type { TemplateView } from '../api.schemas';

/** The workflow templates a deployment offers (the SDK's, when the composition root passes them). */
export type TemplateSource = () => TemplateView[];

export const TEMPLATES = Symbol('WEFT_API_TEMPLATES');

export const noTemplates: TemplateSource = () => [];
