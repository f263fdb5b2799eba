import type { ServerResponse } from 'node:http';
import { Controller, Get, Inject, Query, Res } from '@nestjs/common';
import { type Caller, CallerOf } from '@weft/platform';
import { SignalsUseCase } from '../usecases/signals.usecase';
import { parse, sendPage } from './http/http.util';
import { ROUTES as R } from './openapi/routes';
import { auditView, pageFilter } from './wait.views';

/** The audit log of the caller's namespace (append-only; no route changes it). */
@Controller('v1/audit')
export class AuditController {
  constructor(@Inject(SignalsUseCase) private readonly signals: SignalsUseCase) {}

  @Get()
  async list(@CallerOf() caller: Caller, @Query() query: unknown, @Res() res: ServerResponse): Promise<void> {
    const q = parse(R.listAudit.query, query, 'query');
    const colon = q.target?.indexOf(':') ?? -1;
    const page = await this.signals.audit(caller.namespace, {
      ...pageFilter(q, { actor: q.actor, action: q.action }),
      ...(q.target !== undefined && colon > 0 && { target: { kind: q.target.slice(0, colon), id: q.target.slice(colon + 1) } }),
    });
    sendPage(res, page, auditView);
  }
}
