import { parentPort } from 'node:worker_threads';
import { checkSpec } from './spec-source.util';
import type { SpecCheckReply, SpecCheckRequest } from './spec-checker';

/**
 * The worker thread of SpecChecker: checks one spec per message with the same checkSpec the
 * event loop would run, and posts back its diagnostics (and the spec when it has no error).
 */
parentPort?.on('message', (request: SpecCheckRequest) => {
  let reply: SpecCheckReply;
  try {
    reply = { id: request.id, checked: checkSpec(request.input, request.file, request.limits) };
  } catch (error) {
    reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort?.postMessage(reply);
});
