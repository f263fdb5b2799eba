import type { ServerResponse } from 'node:http';
import { Controller, Get, Inject, Param, Res } from '@nestjs/common';
import { type Caller, CallerOf } from '@weft/platform';
import { parse, sendJson } from './http/http.util';
import { ROUTES as R } from './openapi/routes';
import { type StepOutputBody, StepOutputUseCase } from '../usecases/step-output.usecase';

/**
 * A step's output, a run's inputs or outputs by themselves: inline ones as JSON, large ones (stored
 * by reference) streamed from the blob store.
 */
@Controller('v1/runs')
export class StepOutputController {
  constructor(@Inject(StepOutputUseCase) private readonly outputs: StepOutputUseCase) {}

  @Get(':id/steps/:step/output')
  async output(@CallerOf() caller: Caller, @Param() params: unknown, @Res() res: ServerResponse): Promise<void> {
    const { id, step } = parse(R.getStepOutput.params, params, 'path');
    await send(res, await this.outputs.get(caller.namespace, id, step));
  }

  @Get(':id/inputs')
  async inputs(@CallerOf() caller: Caller, @Param() params: unknown, @Res() res: ServerResponse): Promise<void> {
    const { id } = parse(R.getRunInputs.params, params, 'path');
    await send(res, await this.outputs.runPayload(caller.namespace, id, 'inputs'));
  }

  @Get(':id/outputs')
  async runOutputs(@CallerOf() caller: Caller, @Param() params: unknown, @Res() res: ServerResponse): Promise<void> {
    const { id } = parse(R.getRunOutputs.params, params, 'path');
    await send(res, await this.outputs.runPayload(caller.namespace, id, 'outputs'));
  }
}

async function send(res: ServerResponse, output: StepOutputBody): Promise<void> {
  if (output.kind === 'inline') {
    sendJson(res, 200, output.value);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(output.size) });
  // Chunk by chunk, waiting for the socket to drain: a 100 MB output never sits whole in memory.
  for await (const chunk of output.chunks) {
    if (res.destroyed) return;
    if (!res.write(chunk)) await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
  }
  res.end();
}
