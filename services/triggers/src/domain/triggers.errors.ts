import { WeftError } from '@weft/contracts';

/**
 * Errors of the triggers service, by code:
 * - TRIGGER_NOT_FOUND: no active trigger by that workflow and id in the caller's namespace (404)
 * - INVALID_REQUEST: a body or query the route cannot take (400)
 * - NOT_SUPPORTED: the operation does not apply to the trigger's kind (409), e.g. backfill of a webhook
 * - WEBHOOK_REFUSED: a delivery whose signature, timestamp or size is refused (401; 413 for size)
 */
export type TriggersErrorCode = 'TRIGGER_NOT_FOUND' | 'INVALID_REQUEST' | 'NOT_SUPPORTED' | 'WEBHOOK_REFUSED';

export class TriggersError extends WeftError<TriggersErrorCode> {}
