import type { IncomingMessage } from 'node:http';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

/** Who is asking: the namespace every read and write is confined to, and the key used (null: anonymous dev mode or the admin credential). */
export interface Caller {
  namespace: string;
  keyId: string | null;
  /** The operator's admin credential (WEFT_ADMIN_KEY): may mint keys for any namespace. */
  admin?: true;
}

const callers = new WeakMap<IncomingMessage, Caller>();

export const setCaller = (request: IncomingMessage, caller: Caller): void => void callers.set(request, caller);

/** The caller already authenticated for this request, if any (two gates in one app authenticate once). */
export const knownCaller = (request: IncomingMessage): Caller | undefined => callers.get(request);

/** The caller a gate middleware authenticated; a route no gate covers has none (a wiring bug, so it throws: fail closed). */
export function callerOf(request: IncomingMessage): Caller {
  const caller = callers.get(request);
  if (!caller) throw new Error(`no authenticated caller for ${request.method ?? ''} ${request.url ?? ''}: no API-key gate covers this route`);
  return caller;
}

/** `@CallerOf() caller: Caller` in a controller method. */
export const CallerOf = createParamDecorator((_data: unknown, context: ExecutionContext): Caller => callerOf(context.switchToHttp().getRequest<IncomingMessage>()));
