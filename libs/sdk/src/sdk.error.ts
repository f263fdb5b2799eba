import { type Diagnostic, formatDiagnostic } from '@weft/core';

/** Stable, machine-readable codes of every error the SDK throws. */
export const SdkErrorCode = {
  WorkflowInvalid: 'WORKFLOW_INVALID',
  FragmentInvalid: 'FRAGMENT_INVALID',
  TemplateNotFound: 'TEMPLATE_NOT_FOUND',
  TemplateOverrideInvalid: 'TEMPLATE_OVERRIDE_INVALID',
} as const;
export type SdkErrorCode = (typeof SdkErrorCode)[keyof typeof SdkErrorCode];

export abstract class WeftSdkError extends Error {
  abstract readonly code: SdkErrorCode;
}

/**
 * `build()` (or a template) produced a spec with errors. `diagnostics` holds every
 * problem found, warnings included; the message lists them all.
 */
export class WorkflowBuildError extends WeftSdkError {
  readonly code = SdkErrorCode.WorkflowInvalid;
  constructor(
    readonly workflow: string,
    readonly diagnostics: readonly Diagnostic[],
  ) {
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    super(
      `workflow "${workflow}" is invalid (${errors} error${errors === 1 ? '' : 's'}):\n` +
        diagnostics.map((d) => `  ${formatDiagnostic(d)} [${d.code}]${d.hint ? ` (${d.hint})` : ''}`).join('\n'),
    );
    this.name = 'WorkflowBuildError';
  }
}

/** A helper (`chain`, `parallel`, `fanOutFanIn`, `step`) was called with arguments it cannot use. */
export class FragmentError extends WeftSdkError {
  readonly code = SdkErrorCode.FragmentInvalid;
  constructor(message: string) {
    super(message);
    this.name = 'FragmentError';
  }
}

export class TemplateNotFoundError extends WeftSdkError {
  readonly code = SdkErrorCode.TemplateNotFound;
  constructor(
    readonly template: string,
    readonly available: readonly string[],
  ) {
    super(`unknown template "${template}"; available: ${available.join(', ')}`);
    this.name = 'TemplateNotFoundError';
  }
}

/** An override names a step or input the template does not have. */
export class TemplateOverrideError extends WeftSdkError {
  readonly code = SdkErrorCode.TemplateOverrideInvalid;
  constructor(
    readonly template: string,
    message: string,
  ) {
    super(`template "${template}": ${message}`);
    this.name = 'TemplateOverrideError';
  }
}
