import type { ServerResponse } from 'node:http';
import { Body, Controller, Delete, Get, Inject, Param, Post, Res } from '@nestjs/common';
import { type Caller, CallerOf } from '@weft/platform';
import { parse, sendJson } from './http/http.util';
import { ApiKeysUseCase } from '../usecases/api-keys.usecase';
import { ROUTES as R } from './openapi/routes';
import { apiKeyView } from './views.util';
import { ApiAudit } from './api-audit';

/** API keys of the caller's namespace. */
@Controller('v1/keys')
export class KeysController {
  constructor(
    @Inject(ApiKeysUseCase) private readonly keys: ApiKeysUseCase,
    @Inject(ApiAudit) private readonly audit: ApiAudit,
  ) {}

  @Post()
  async create(@CallerOf() caller: Caller, @Body() body: unknown, @Res() res: ServerResponse): Promise<void> {
    const { key, record } = await this.keys.create(caller, parse(R.createKey.body, body ?? {}, 'body'));
    await this.audit.record(caller, 'key.created', { kind: 'key', id: record.id }, { name: record.name });
    sendJson(res, 201, { ...apiKeyView(record), key });
  }

  @Get()
  async list(@CallerOf() caller: Caller, @Res() res: ServerResponse): Promise<void> {
    sendJson(res, 200, { items: (await this.keys.list(caller)).map(apiKeyView) });
  }

  @Delete(':keyId')
  async revoke(@CallerOf() caller: Caller, @Param() params: unknown, @Res() res: ServerResponse): Promise<void> {
    const { keyId } = parse(R.revokeKey.params, params, 'path');
    const revoked = await this.keys.revoke(caller, keyId);
    await this.audit.record(caller, 'key.revoked', { kind: 'key', id: keyId }, { name: revoked.name });
    sendJson(res, 200, apiKeyView(revoked));
  }
}
