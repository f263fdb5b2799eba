import { WeftError, type WeftErrorOptions } from '@weft/contracts';
import type { Problem } from './api.types';

/** The API answered with a problem document (4xx/5xx). `code` is the problem's stable code. */
export class WeftApiError extends WeftError {
  readonly status: number;

  constructor(readonly problem: Problem) {
    super(problem.code, `${problem.status} ${problem.code}: ${problem.detail}${problem.errors?.length ? `\n${problem.errors.map((e) => `  ${e.path}: ${e.message}`).join('\n')}` : ''}`);
    this.status = problem.status;
  }
}

/** The API could not be reached, or answered with something that is not the API. */
export class WeftConnectionError extends WeftError<'API_UNREACHABLE'> {
  constructor(message: string, options?: WeftErrorOptions) {
    super('API_UNREACHABLE', message, options);
  }
}
