import type { Problem } from './api.types';

/** The API answered with a problem document (4xx/5xx). `code` is the problem's stable code. */
export class WeftApiError extends Error {
  readonly code: string;
  readonly status: number;

  constructor(readonly problem: Problem) {
    super(`${problem.status} ${problem.code}: ${problem.detail}${problem.errors?.length ? `\n${problem.errors.map((e) => `  ${e.path}: ${e.message}`).join('\n')}` : ''}`);
    this.name = 'WeftApiError';
    this.code = problem.code;
    this.status = problem.status;
  }
}

/** The API could not be reached, or answered with something that is not the API. */
export class WeftConnectionError extends Error {
  readonly code = 'API_UNREACHABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WeftConnectionError';
  }
}
