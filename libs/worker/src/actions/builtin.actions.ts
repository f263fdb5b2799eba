import type { ActionDefinition } from '../action.types';
import { failAction } from './fail.action';
import { httpRequestAction } from './http-request.action';
import { logAction } from './log.action';
import { noopAction } from './noop.action';
import { sleepAction } from './sleep.action';
import { transformAction } from './transform.action';

/** The actions every worker serves unless told otherwise. Names are a public contract. */
export function builtinActions(): ActionDefinition[] {
  return [noopAction, sleepAction, failAction, transformAction, logAction, httpRequestAction];
}

export const BUILTIN_ACTION_NAMES = ['noop', 'sleep', 'fail', 'transform', 'log', 'http.request'] as const;
