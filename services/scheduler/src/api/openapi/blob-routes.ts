import { problemResponse as problem, type RouteSpec } from '@weft/contracts';
import { z } from 'zod';

/** A step's output by itself (issue 12 item 4: large outputs are stored by reference), merged into the scheduler's route table. */
export const StepOutputPath = z.object({ id: z.string().min(1).max(200), step: z.string().min(1).max(200) }).strict();

/** Any JSON value: the step's output, exactly as its worker serialised it. */
export const StepOutput = z.unknown().describe("The step's output as JSON; a large output (stored by reference) is streamed byte for byte as its worker serialised it");

/** A run, by id. */
export const RunPayloadPath = z.object({ id: z.string().min(1).max(200) }).strict();

/** A run's inputs or outputs, exactly as stored. */
export const RunPayload = z.unknown().describe("The run's inputs or outputs as JSON; large ones (stored by reference) are streamed byte for byte as stored");

export const BLOB_ROUTES = {
  getStepOutput: {
    method: 'get',
    path: '/v1/runs/{id}/steps/{step}/output',
    summary: "A step's output, streamed (large outputs stored by reference included)",
    tag: 'runs',
    params: StepOutputPath,
    responses: {
      200: { description: "The output (JSON); `Content-Length` is the stored size of a large one", schema: StepOutput },
      404: problem('No such run in the caller\'s namespace, no such step, or the step has no output'),
    },
  },
  getRunInputs: {
    method: 'get',
    path: '/v1/runs/{id}/inputs',
    summary: "A run's inputs, streamed (large inputs stored by reference included)",
    tag: 'runs',
    params: RunPayloadPath,
    responses: {
      200: { description: 'The inputs (JSON); `Content-Length` is the stored size of large ones', schema: RunPayload },
      404: problem("No such run in the caller's namespace"),
    },
  },
  getRunOutputs: {
    method: 'get',
    path: '/v1/runs/{id}/outputs',
    summary: "A finished run's outputs alone, streamed (large outputs stored by reference included); null without `outputs:`",
    tag: 'runs',
    params: RunPayloadPath,
    responses: {
      200: { description: 'The outputs (JSON); `Content-Length` is the stored size of large ones', schema: RunPayload },
      404: problem("No such run in the caller's namespace"),
      409: problem('The run has not finished'),
    },
  },
} satisfies Record<string, RouteSpec>;
