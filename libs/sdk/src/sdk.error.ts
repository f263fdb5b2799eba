import { WeftError } from '@weft/contracts';
import { type Diagnostic, formatDiagnostic } from '@weft/core';

/** Stable, machine-readable codes of every error the SDK throws. */
export const SdkErrorCode = {
  WorkflowInvalid: 'WORKFLOW_INVALID',
  FragmentInvalid: 'FRAGMENT_INVALID',
  TemplateNotFound: 'TEMPLATE_NOT_FOUND',
  TemplateOverrideInvalid: 'TEMPLATE_OVERRIDE_INVALID',
} as const;
export type SdkErrorCode = (typeof SdkErrorCode)[keyof typeof SdkErrorCode];

export abstract class WeftSdkError extends WeftError<SdkErrorCode> {}

/**
 * `build()` (or a template) produced a spec with errors. `diagnostics` holds every
 * problem found, warnings included; the message lists them all.
 */
export class WorkflowBuildError extends WeftSdkError {
  constructor(
    readonly workflow: string,
    readonly diagnostics: readonly Diagnostic[],
  ) {
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    super(
      SdkErrorCode.WorkflowInvalid,
      `workflow "${workflow}" is invalid (${errors} error${errors === 1 ? '' : 's'}):\n` +
        diagnostics.map((d) => `  ${formatDiagnostic(d)} [${d.code}]${d.hint ? ` (${d.hint})` : ''}`).join('\n'),
    );
  }
}

/** A helper (`chain`, `parallel`, `fanOutFanIn`, `step`) was called with arguments it cannot use. */
export class FragmentError extends WeftSdkError {
  constructor(message: string) {
    super(SdkErrorCode.FragmentInvalid, message);
  }
}

export class TemplateNotFoundError extends WeftSdkError {
  constructor(
    readonly template: string,
    readonly available: readonly string[],
  ) {
    super(SdkErrorCode.TemplateNotFound, `unknown template "${template}"; available: ${available.join(', ')}`);
  }
}

/** An override names a step or input the template does not have. */
export class TemplateOverrideError extends WeftSdkError {
  constructor(
    readonly template: string,
    message: string,
  ) {
    super(SdkErrorCode.TemplateOverrideInvalid, `template "${template}": ${message}`);
  }
}
