import { JetStreamApiError } from '@nats-io/jetstream';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { type Headers } from './bus.port';

/** JetStream API error codes the bus reacts to. */
export const JS_CONSUMER_NOT_UNIQUE_ON_WORKQUEUE = 10100;
export const JS_STREAM_NOT_FOUND = 10059;
export const JS_CONSUMER_NOT_FOUND = 10014;
export const JS_NO_MESSAGE_FOUND = 10037;
export const JS_REPLICAS_NOT_SUPPORTED = 10074;
export const JS_NO_SUITABLE_PEERS = 10005;

export function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

export function toNatsHeaders(source: Headers | undefined): MsgHdrs | undefined {
  if (!source || Object.keys(source).length === 0) return undefined;
  const h = natsHeaders();
  for (const [k, v] of Object.entries(source)) h.set(k, v);
  return h;
}

export function fromNatsHeaders(source: MsgHdrs | undefined): Headers {
  const out: Headers = {};
  if (!source) return out;
  for (const k of source.keys()) out[k] = source.get(k);
  return out;
}
