import type { ServerResponse } from 'node:http';
import { Controller, Get, Res } from '@nestjs/common';
import { sendJson } from '../http/http.util';
import { buildOpenApiDocument } from './openapi.document';

/** GET /openapi.json: public, so tools can read it before they hold a key. */
@Controller()
export class OpenApiController {
  private document: Record<string, unknown> | undefined;

  @Get('openapi.json')
  get(@Res() res: ServerResponse): void {
    this.document ??= buildOpenApiDocument();
    sendJson(res, 200, this.document);
  }
}
