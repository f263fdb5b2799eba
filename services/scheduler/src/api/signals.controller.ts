import type { ServerResponse } from 'node:http';
import { Body, Controller, Get, Inject, Post, Query, Res } from '@nestjs/common';
import { type Caller, CallerOf } from '@weft/platform';
import { SignalsUseCase } from '../usecases/signals.usecase';
import { WaitActors } from '../usecases/wait-actors';
import { parse, sendJson, sendPage } from './http/http.util';
import { ROUTES as R } from './openapi/routes';
import { pageFilter, signalApiView } from './wait.views';

/** Signals: outside events that `wait.event` steps wait for. */
@Controller('v1/signals')
export class SignalsController {
  constructor(
    @Inject(SignalsUseCase) private readonly signals: SignalsUseCase,
    @Inject(WaitActors) private readonly actors: WaitActors,
  ) {}

  @Post()
  async send(@CallerOf() caller: Caller, @Body() body: unknown, @Res() res: ServerResponse): Promise<void> {
    const { signal, created } = await this.signals.send(caller.namespace, parse(R.sendSignal.body, body, 'body'), await this.actors.of(caller));
    sendJson(res, created ? 201 : 200, signalApiView(signal));
  }

  @Get()
  async list(@CallerOf() caller: Caller, @Query() query: unknown, @Res() res: ServerResponse): Promise<void> {
    const q = parse(R.listSignals.query, query, 'query');
    sendPage(res, await this.signals.list(caller.namespace, pageFilter(q, { name: q.name, key: q.key })), signalApiView);
  }
}
