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

/** One problem found in a workflow spec; `path` points into the spec (`steps[2].needs[0]`). */
export interface BuildDiagnostic {
  code: string;
  message: string;
  path: string;
}

/** `build()` (or a template) produced a spec that does not validate; lists every problem at once. */
export class WorkflowBuildError extends WeftSdkError {
  readonly code = SdkErrorCode.WorkflowInvalid;
  constructor(
    readonly workflow: string,
    readonly diagnostics: readonly BuildDiagnostic[],
  ) {
    super(
      `workflow "${workflow}" is invalid (${diagnostics.length} problem${diagnostics.length === 1 ? '' : 's'}):\n` +
        diagnostics.map((d) => `  - ${d.path ? `${d.path}: ` : ''}${d.message} [${d.code}]`).join('\n'),
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
