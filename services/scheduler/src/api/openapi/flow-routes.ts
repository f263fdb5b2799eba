import { problemResponse as problem, type RouteSpec } from '@weft/contracts';
import * as F from '../flow.schemas';

/** Flow-control routes (issue 16), merged into the scheduler's route table. */
export const FLOW_ROUTES = {
  explainRun: {
    method: 'get',
    path: '/v1/runs/{id}/why',
    summary: 'Why each unfinished step has not moved, and since when',
    tag: 'runs',
    params: F.RunWhyPath,
    responses: { 200: { description: 'One reason per unfinished step (none for a finished run)', schema: F.RunWhyView }, 404: problem('No such run') },
  },
  listStepItems: {
    method: 'get',
    path: '/v1/runs/{id}/steps/{stepId}/items',
    summary: 'The items of a forEach step, in index order, a page at a time',
    tag: 'runs',
    params: F.StepItemsPath,
    query: F.StepItemsQuery,
    responses: { 200: { description: 'A page of items with the counts', schema: F.ItemPage }, 404: problem('No such run, or the step has no items') },
  },
} satisfies Record<string, RouteSpec>;
