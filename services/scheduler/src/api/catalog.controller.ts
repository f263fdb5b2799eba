import type { ServerResponse } from 'node:http';
import { Body, Controller, Get, Inject, Post, Res } from '@nestjs/common';
import { ActionCatalog } from './catalog/action-catalog';
import { TEMPLATES, type TemplateSource } from './catalog/templates';
import { SPEC_CHECKER } from './spec-limits.token';
import type { SpecChecker } from '../workflows';
import { parse, sendJson } from './http/http.util';
import { ROUTES as R } from './openapi/routes';

/** What a deployment offers: actions (built-in and announced by live workers), templates, and spec validation. */
@Controller('v1')
export class CatalogController {
  constructor(
    @Inject(ActionCatalog) private readonly actions: ActionCatalog,
    @Inject(TEMPLATES) private readonly templates: TemplateSource,
    @Inject(SPEC_CHECKER) private readonly checker: Pick<SpecChecker, 'check'>,
  ) {}

  @Get('catalog/actions')
  listActions(@Res() res: ServerResponse): void {
    sendJson(res, 200, { items: this.actions.list() });
  }

  @Get('catalog/templates')
  listTemplates(@Res() res: ServerResponse): void {
    sendJson(res, 200, { items: this.templates() });
  }

  /** 200 either way: the verdict is in the body (`valid`), with every diagnostic of `weft validate`. */
  @Post('validate')
  async validate(@Body() body: unknown, @Res() res: ServerResponse): Promise<void> {
    const input = parse(R.validate.body, body, 'body');
    const { spec, diagnostics } = await this.checker.check(input.source !== undefined ? { source: input.source } : { spec: input.spec });
    sendJson(res, 200, {
      valid: spec !== undefined,
      name: spec?.name ?? null,
      diagnostics: diagnostics.map((d) => ({
        path: d.path,
        message: d.message,
        code: d.code,
        severity: d.severity,
        ...(d.line > 0 && { line: d.line, col: d.col }),
        ...(d.hint !== undefined && { hint: d.hint }),
      })),
    });
  }
}
