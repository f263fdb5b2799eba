import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, type MiddlewareConsumer, type NestMiddleware, type Provider, type Type } from '@nestjs/common';
import { problemDocument, requestPath, sendProblem } from '../problem-details.filter';
import { Authenticator, UnauthorizedError } from './authenticator';
import { knownCaller, setCaller } from './caller';

/**
 * The API-key gate of a service that serves /v1 routes on its own (the journal, analytics):
 * `Authorization: Bearer <key>` -> the caller's namespace, read by `@CallerOf()`. A request
 * another gate of the same app already authenticated (`weft dev` mounts every service
 * behind the scheduler's) is not looked up twice. A bad key is answered here, as the
 * 401 problem document every service sends, since controller-scoped filters never see
 * middleware errors.
 */
@Injectable()
export class ApiKeyMiddleware implements NestMiddleware<IncomingMessage, ServerResponse> {
  constructor(@Inject(Authenticator) private readonly authenticator: Authenticator) {}

  async use(request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void): Promise<void> {
    try {
      if (!knownCaller(request)) setCaller(request, await this.authenticator.authenticate(request.headers.authorization));
      next();
    } catch (error) {
      if (!(error instanceof UnauthorizedError)) {
        next(error);
        return;
      }
      sendProblem(response, problemDocument(401, error.code, error.message, requestPath(request)));
    }
  }
}

/** Injected into a module that gates its own controllers: whether it was given an authenticator. */
export const API_KEY_GATED = Symbol('WEFT_API_KEY_GATED');

/**
 * The providers of a module that gates its own controllers when given an `auth`
 * (a service serving HTTP alone) and leaves it to the app otherwise (`weft dev`).
 * The module injects API_KEY_GATED and calls `gateControllers` from `configure`.
 */
export function apiKeyGateProviders(auth: Authenticator | undefined): Provider[] {
  return [{ provide: API_KEY_GATED, useValue: auth !== undefined }, ...(auth ? [{ provide: Authenticator, useValue: auth }, ApiKeyMiddleware] : [])];
}

export function gateControllers(consumer: MiddlewareConsumer, gated: boolean, ...controllers: Type[]): void {
  if (gated && controllers.length > 0) consumer.apply(ApiKeyMiddleware).forRoutes(...controllers);
}
