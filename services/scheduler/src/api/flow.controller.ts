import type { ServerResponse } from 'node:http';
import { Controller, Get, Inject, Param, Query, Res } from '@nestjs/common';
import { type Caller, CallerOf } from '@weft/platform';
import { parse, sendJson } from './http/http.util';
import { ROUTES as R } from './openapi/routes';
import { FlowQueriesUseCase } from '../usecases/flow-queries.usecase';

/** Flow control of a run: a forEach step's items, and why its unfinished steps wait. */
@Controller('v1/runs')
export class FlowController {
  constructor(@Inject(FlowQueriesUseCase) private readonly flow: FlowQueriesUseCase) {}

  @Get(':id/why')
  async why(@CallerOf() caller: Caller, @Param() params: unknown, @Res() res: ServerResponse): Promise<void> {
    const { id } = parse(R.explainRun.params, params, 'path');
    sendJson(res, 200, await this.flow.why(caller.namespace, id));
  }

  @Get(':id/steps/:stepId/items')
  async items(@CallerOf() caller: Caller, @Param() params: unknown, @Query() query: unknown, @Res() res: ServerResponse): Promise<void> {
    const { id, stepId } = parse(R.listStepItems.params, params, 'path');
    sendJson(res, 200, await this.flow.items(caller.namespace, id, stepId, parse(R.listStepItems.query, query, 'query')));
  }
}
