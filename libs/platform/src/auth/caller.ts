import type { IncomingMessage } from 'node:http';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

/** Who is asking: the namespace every read and write is confined to, and the key used (null: anonymous dev mode). */
export interface Caller {
  namespace: string;
  keyId: string | null;
}

const callers = new WeakMap<IncomingMessage, Caller>();

export const setCaller = (request: IncomingMessage, caller: Caller): void => void callers.set(request, caller);

/** The caller the gate middleware authenticated; a route it did not guard has none (a bug, so it throws). */
export function callerOf(request: IncomingMessage): Caller {
  const caller = callers.get(request);
  if (!caller) throw new Error(`no authenticated caller for ${request.method ?? ''} ${request.url ?? ''}: is the route outside /v1?`);
  return caller;
}

/** `@CallerOf() caller: Caller` in a controller method. */
export const CallerOf = createParamDecorator((_data: unknown, context: ExecutionContext): Caller => callerOf(context.switchToHttp().getRequest<IncomingMessage>()));
