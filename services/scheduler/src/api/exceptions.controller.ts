import type { ServerResponse } from 'node:http';
import { Body, Controller, Get, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { type Caller, CallerOf } from '@weft/platform';
import { ExceptionsUseCase } from '../usecases/exceptions.usecase';
import { ExceptionsBulkUseCase } from '../usecases/exceptions-bulk.usecase';
import { RunControlUseCase } from '../usecases/run-control.usecase';
import { SignalsUseCase } from '../usecases/signals.usecase';
import { WaitActors } from '../usecases/wait-actors';
import { given, parse, sendJson, sendPage } from './http/http.util';
import { ROUTES as R } from './openapi/routes';
import { exceptionView, pageFilter } from './wait.views';

/** The exception queue: open reviews and failed runs, resolvable with a note. */
@Controller('v1/exceptions')
export class ExceptionsController {
  private readonly bulkActions: ExceptionsBulkUseCase;

  constructor(
    @Inject(ExceptionsUseCase) private readonly exceptions: ExceptionsUseCase,
    @Inject(WaitActors) private readonly actors: WaitActors,
    @Inject(RunControlUseCase) control: RunControlUseCase,
    @Inject(SignalsUseCase) signals: SignalsUseCase,
  ) {
    this.bulkActions = new ExceptionsBulkUseCase(exceptions, control, signals);
  }

  // Declared before ':kind/:id/resolve' so that `bulk` is never taken for a kind.
  @Post('bulk')
  async bulk(@CallerOf() caller: Caller, @Body() body: unknown, @Res() res: ServerResponse): Promise<void> {
    const { filter, action, note } = parse(R.bulkExceptions.body, body, 'body');
    const result = await this.bulkActions.apply(
      caller.namespace,
      {
        ...given({ kind: filter.kind, workflow: filter.workflow }),
        ...(filter.since !== undefined && { since: Date.parse(filter.since) }),
      },
      action,
      await this.actors.of(caller),
      note,
    );
    sendJson(res, 200, result);
  }

  @Get()
  async list(@CallerOf() caller: Caller, @Query() query: unknown, @Res() res: ServerResponse): Promise<void> {
    const q = parse(R.listExceptions.query, query, 'query');
    const filter = { ...pageFilter(q, { kind: q.kind, workflow: q.workflow }), ...(q.resolved === 'true' && { resolved: true }) };
    sendPage(res, await this.exceptions.list(caller.namespace, filter), exceptionView);
  }

  @Post(':kind/:id/resolve')
  async resolve(@CallerOf() caller: Caller, @Param() params: unknown, @Body() body: unknown, @Res() res: ServerResponse): Promise<void> {
    const { kind, id } = parse(R.resolveException.params, params, 'path');
    const { note } = parse(R.resolveException.body, body, 'body');
    await this.exceptions.resolve(caller.namespace, kind, id, note, await this.actors.of(caller));
    sendJson(res, 200, { kind, id, resolved: true });
  }
}
