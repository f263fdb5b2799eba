import type { ActionDefinition } from '../action.types';
import { failAction } from './fail.action';
import { createHttpRequestAction, type HttpRequestOptions } from './http-request.action';
import { logAction } from './log.action';
import { noopAction } from './noop.action';
import { sleepAction } from './sleep.action';
import { transformAction } from './transform.action';

export interface BuiltinActionsOptions {
  /** What http.request may reach beyond the public internet (WEFT_HTTP_ALLOW). @default nothing private */
  http?: HttpRequestOptions;
}

/** The actions every worker serves unless told otherwise. Names are a public contract. */
export function builtinActions(options: BuiltinActionsOptions = {}): ActionDefinition[] {
  return [noopAction, sleepAction, failAction, transformAction, logAction, createHttpRequestAction(options.http)];
}

export const BUILTIN_ACTION_NAMES = ['noop', 'sleep', 'fail', 'transform', 'log', 'http.request'] as const;
