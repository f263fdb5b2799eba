import { problemResponse as problem, type RouteSpec } from '@weft/contracts';
import { z } from 'zod';

/** A step's output by itself (issue 12 item 4: large outputs are stored by reference), merged into the scheduler's route table. */
export const StepOutputPath = z.object({ id: z.string().min(1).max(200), step: z.string().min(1).max(200) }).strict();

/** Any JSON value: the step's output, exactly as its worker serialised it. */
export const StepOutput = z.unknown().describe("The step's output as JSON; a large output (stored by reference) is streamed byte for byte as its worker serialised it");

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
} satisfies Record<string, RouteSpec>;
