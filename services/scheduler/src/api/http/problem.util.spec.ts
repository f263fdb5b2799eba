import { BadRequestException, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { RunRejectedError } from '../../usecases/create-run.usecase';
import { InvalidSpecError, WorkflowError } from '../../workflows';
import { ApiError } from './api.errors';
import { toProblem } from './problem.util';

describe('toProblem', () => {
  it('maps the API\'s, the workflows\' and the scheduler\'s errors to their status and code', () => {
    expect(toProblem(new ApiError('RUN_NOT_FOUND', 'no run r1'), '/v1/runs/r1')).toEqual({
      type: 'urn:weft:problem:run-not-found',
      title: 'Not Found',
      status: 404,
      detail: 'no run r1',
      instance: '/v1/runs/r1',
      code: 'RUN_NOT_FOUND',
    });
    expect(toProblem(new WorkflowError('STALE_REVISION', 'stale'))).toMatchObject({ status: 412, title: 'Precondition Failed', code: 'STALE_REVISION' });
    expect(toProblem(new WorkflowError('WORKFLOW_EXISTS', 'taken'))).toMatchObject({ status: 409, code: 'WORKFLOW_EXISTS' });
    expect(toProblem(new RunRejectedError('bad inputs'))).toMatchObject({ status: 422, code: 'RUN_REJECTED' });
  });

  it('lists spec diagnostics as errors[] with positions when they have them', () => {
    const error = new InvalidSpecError('2 errors', [
      { file: '', line: 7, col: 13, path: 'steps[0].needs[0]', code: 'UNKNOWN_NEED', message: 'unknown step "ghost"', hint: 'check the id', severity: 'error' },
      { file: '', line: 0, col: 0, path: 'name', code: 'NAME_MISMATCH', message: 'wrong name', severity: 'error' },
    ]);
    expect(toProblem(error).errors).toEqual([
      { path: 'steps[0].needs[0]', message: 'unknown step "ghost"', code: 'UNKNOWN_NEED', line: 7, col: 13, hint: 'check the id' },
      { path: 'name', message: 'wrong name', code: 'NAME_MISMATCH' },
    ]);
  });

  it('speaks for Nest and body-parser: unknown routes, malformed JSON, too large, unsupported charset', () => {
    expect(toProblem(new NotFoundException('Cannot GET /v1/x'))).toMatchObject({ status: 404, code: 'ROUTE_NOT_FOUND' });
    expect(toProblem(new BadRequestException("Expected property name or '}' in JSON at position 1"))).toMatchObject({ status: 400, code: 'MALFORMED_JSON' });
    const tooLarge = Object.assign(new Error('request entity too large'), { status: 413, type: 'entity.too.large', expose: true });
    expect(toProblem(tooLarge)).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE', title: 'Content Too Large' });
    const charset = Object.assign(new Error('unsupported charset "LATIN-9"'), { status: 415, type: 'charset.unsupported', expose: true });
    expect(toProblem(charset)).toMatchObject({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(toProblem(new ServiceUnavailableException('down'))).toMatchObject({ status: 503, code: 'HTTP_503' });
  });

  it('never leaks an unknown error\'s message', () => {
    const problem = toProblem(new Error('password=hunter2 at db.internal'));
    expect(problem).toMatchObject({ status: 500, code: 'INTERNAL' });
    expect(JSON.stringify(problem)).not.toContain('hunter2');
  });
});
