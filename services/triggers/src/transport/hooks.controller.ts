import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { problemDocument, requestPath, sendProblem } from '@weft/platform';
import { TriggersError } from '../domain/triggers.errors';
import { WebhookUseCase } from '../usecases/webhook.usecase';
import { toProblem } from './triggers-problem.filter';

/** Largest webhook body read at all; each trigger's own `maxBody` (default 1 MiB) refuses below it. */
export const MAX_HOOK_BODY_BYTES = 10 * 1024 * 1024;

type HookRequest = IncomingMessage & { rawBody?: Buffer; body?: unknown };

/**
 * `POST /v1/hooks/{namespace}/{workflow}/{trigger}`: no API key, the signature is the
 * credential. 200 with the outcome (`fired`, `duplicate` for a replay, `filtered`); a refused
 * delivery is 401 problem+json (413 when too large) and starts nothing.
 */
@Controller('v1/hooks')
export class HooksController {
  constructor(@Inject(WebhookUseCase) private readonly hooks: WebhookUseCase) {}

  @Post(':namespace/:workflow/:trigger')
  async deliver(@Param('namespace') namespace: string, @Param('workflow') workflow: string, @Param('trigger') triggerId: string, @Req() req: HookRequest, @Res() res: ServerResponse): Promise<void> {
    try {
      const body = await rawBodyOf(req);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
      const outcome = await this.hooks.deliver({ namespace, workflow, triggerId }, headers, body);
      if (!outcome.accepted) {
        const problem = problemDocument(outcome.status, 'WEBHOOK_REFUSED', `delivery refused (${outcome.reason}): ${outcome.message}`, requestPath(req));
        sendProblem(res, Object.assign(problem, { reason: outcome.reason }));
        return;
      }
      const text = JSON.stringify({ outcome: outcome.result.outcome, deliveryId: outcome.deliveryId, ...(outcome.result.runId ? { runId: outcome.result.runId } : {}), ...(outcome.result.reason ? { reason: outcome.result.reason } : {}) });
      res.statusCode = 200;
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.end(text);
    } catch (error) {
      sendProblem(res, toProblem(error, requestPath(req)));
    }
  }
}

/** The exact bytes signed: Nest's raw copy of a parsed body, else the unread stream. */
async function rawBodyOf(req: HookRequest): Promise<Buffer> {
  if (req.rawBody) return req.rawBody;
  if (req.readableEnded || req.body !== undefined) {
    if (req.body === undefined || (typeof req.body === 'object' && req.body !== null && Object.keys(req.body).length === 0)) return Buffer.alloc(0);
    throw new TriggersError('INVALID_REQUEST', 'the raw body of this delivery is not available (the service must boot with rawBody)');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += b.length;
    if (size > MAX_HOOK_BODY_BYTES) throw new TriggersError('INVALID_REQUEST', `the body exceeds ${MAX_HOOK_BODY_BYTES} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}
