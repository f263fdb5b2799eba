import type { ServerResponse } from 'node:http';
import { Body, Controller, Get, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { type Caller, CallerOf } from '@weft/platform';
import { ReviewsUseCase } from '../usecases/reviews.usecase';
import { WaitActors } from '../usecases/wait-actors';
import { parse, sendJson, sendPage } from './http/http.util';
import { ROUTES as R } from './openapi/routes';
import { pageFilter, reviewSummaryView, reviewView } from './wait.views';

/** Reviews: outputs held for a person's decision (`review:` on a step). */
@Controller('v1/reviews')
export class ReviewsController {
  constructor(
    @Inject(ReviewsUseCase) private readonly reviews: ReviewsUseCase,
    @Inject(WaitActors) private readonly actors: WaitActors,
  ) {}

  @Get()
  async list(@CallerOf() caller: Caller, @Query() query: unknown, @Res() res: ServerResponse): Promise<void> {
    const q = parse(R.listReviews.query, query, 'query');
    sendPage(res, await this.reviews.list(caller.namespace, pageFilter(q, { status: q.status, workflow: q.workflow, assignee: q.assignee })), reviewSummaryView);
  }

  @Get(':id')
  async get(@CallerOf() caller: Caller, @Param() params: unknown, @Res() res: ServerResponse): Promise<void> {
    const { id } = parse(R.getReview.params, params, 'path');
    sendJson(res, 200, reviewView(await this.reviews.get(caller.namespace, id)));
  }

  @Post(':id/decision')
  async decide(@CallerOf() caller: Caller, @Param() params: unknown, @Body() body: unknown, @Res() res: ServerResponse): Promise<void> {
    const { id } = parse(R.decideReview.params, params, 'path');
    const request = parse(R.decideReview.body, body, 'body');
    const { review, run } = await this.reviews.decide(caller.namespace, id, request, await this.actors.of(caller));
    sendJson(res, 200, { review: reviewView(review), runStatus: run.status });
  }
}
