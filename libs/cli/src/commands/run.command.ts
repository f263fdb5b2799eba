import { resolveInputs } from '@weft/core';
import { loadConfig } from '@weft/config';
import { type ActionDefinition, httpPolicyOf, loadActionsModule } from '@weft/worker';
import { startEmbedded } from '../embedded/embedded-runtime';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';
import { loadWorkflow, printDiagnostics } from '../load-workflow';
import { runReport } from '../output/run-report';
import { createRunView } from '../output/run-view';
import { cancelOnInterrupt } from '../interrupt.util';
import { inputsFromFlags } from './run-inputs.util';
import { EmbeddedReviewDecider, parseDecideFlags } from '../embedded/review-decider';

export interface RunCommandOptions {
  input: string[];
  inputsFile?: string;
  json?: boolean;
  actions: string[];
  /** Submit to a running deployment instead of running embedded. */
  api?: string;
  apiKey?: string;
  /** `<stepId>=<decision>[:<payload json>]`: decides that step's review (embedded runs). */
  decide?: string[];
}

/** `weft run <file>`: validate, run embedded to the end, show progress; exit 0 / 1 / 2. */
export async function runCommand(file: string, options: RunCommandOptions, io: Io, signals: NodeJS.EventEmitter = process): Promise<number> {
  const loaded = await loadWorkflow(file);
  printDiagnostics(loaded.diagnostics, io.err);
  const spec = loaded.spec;
  if (!spec) return EXIT.invalid;

  let given: Record<string, unknown>;
  try {
    given = await inputsFromFlags(options);
  } catch (error) {
    io.err(error instanceof Error ? error.message : String(error));
    return EXIT.invalid;
  }
  const resolved = resolveInputs(spec, given, { fromStrings: true });
  printDiagnostics(resolved.diagnostics, io.err);
  if (resolved.diagnostics.some((d) => d.severity === 'error')) return EXIT.invalid;

  if (options.api !== undefined) {
    if (options.actions.length > 0) {
      io.err('--actions runs handlers in this process; with --api they run on the deployment\'s workers (weft worker --actions …)');
      return EXIT.invalid;
    }
    // Loaded here: the API client pulls in the SDK, which an embedded run does not need.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { runRemote } = require('../api-client/run-remote') as typeof import('../api-client/run-remote');
    return runRemote(file, spec, resolved.inputs, options, io, signals);
  }

  let actions: ActionDefinition[] = [];
  let http;
  let decisions;
  try {
    decisions = parseDecideFlags(options.decide ?? []);
    http = httpPolicyOf(loadConfig(process.env));
    for (const path of options.actions) actions = [...actions, ...(await loadActionsModule(path))];
  } catch (error) {
    io.err(error instanceof Error ? error.message : String(error));
    return EXIT.invalid;
  }

  const view = options.json ? undefined : createRunView(spec, io);
  const runtime = await startEmbedded({ actions, http, ...(view && { logger: view.logger }) });
  const interrupt = cancelOnInterrupt(io, signals, (id) => void runtime.scheduler.cancelRun(id, 'interrupted (SIGINT)'));
  const reviews = new EmbeddedReviewDecider(runtime.scheduler, decisions, io, io.isTTY && Boolean(process.stdin.isTTY));
  try {
    const state = await runtime.run(spec, resolved.inputs, {
      onEvent: (event) => {
        view?.onEvent(event);
        reviews.onEvent(event);
      },
      onStarted: (id) => interrupt.started(id),
    });
    if (options.json) io.out(JSON.stringify(runReport(state), null, 2));
    else view?.finish(state);
    return state.status === 'completed' ? EXIT.ok : EXIT.runFailed;
  } finally {
    interrupt.dispose();
    await runtime.close();
  }
}
