import type { Command } from 'commander';
import type { Io } from './io';
import { API_KEY_HELP, API_URL_HELP, collect, lazy } from './program.util';

/** The verbs of the HTTP API: workflows, runs, logs, catalog, keys (each with --api and --api-key). */
export function registerApiVerbs(program: Command, io: Io, result: { code: number }): void {
  type Api = { api?: string; apiKey?: string; json?: boolean };
  const api = (command: Command, json = true): Command => {
    command.option('--api <url>', API_URL_HELP).option('--api-key <key>', API_KEY_HELP);
    return json ? command.option('--json', 'print JSON') : command;
  };
  const workflows = () => lazy<typeof import('./commands/workflows.command')>('./commands/workflows.command');
  const runs = () => lazy<typeof import('./commands/runs.command')>('./commands/runs.command');

  const wf = program.command('workflows').description('stored workflows on a deployment: push, list, show, publish, archive, update, delete, run');
  api(wf.command('push').description('make a file the workflow\'s draft and freeze it as a version (registers it on first push)').argument('<file>'))
    .option('--publish', 'publish the version')
    .action(async (file: string, opts: Api & { publish?: boolean }) => {
      result.code = await workflows().workflowsPush(file, opts, io);
    });
  api(wf.command('list').description('workflows of the namespace')).action(async (opts: Api) => {
    result.code = await workflows().workflowsList(opts, io);
  });
  api(wf.command('show').description('a workflow and its versions').argument('<name>')).action(async (name: string, opts: Api) => {
    result.code = await workflows().workflowsShow(name, opts, io);
  });
  api(wf.command('publish').description('make a version the one runs start with').argument('<name>').argument('<version>')).action(
    async (name: string, version: string, opts: Api) => {
      result.code = await workflows().workflowsPublish(name, version, opts, io);
    },
  );
  api(wf.command('archive').description('archive a version: it never runs again (not the published one)').argument('<name>').argument('<version>')).action(
    async (name: string, version: string, opts: Api) => {
      result.code = await workflows().workflowsArchive(name, version, opts, io);
    },
  );
  api(wf.command('update').description('change a workflow\'s description').argument('<name>'))
    .option('--description <text>', 'the new description ("" clears it)')
    .action(async (name: string, opts: Api & { description?: string }) => {
      result.code = await workflows().workflowsUpdate(name, opts, io);
    });
  api(wf.command('delete').description('delete a workflow, its draft and every version (its runs stay); needs --yes, asks nothing').argument('<name>'))
    .option('-y, --yes', 'really delete it (without: exit 2, nothing sent)')
    .action(async (name: string, opts: Api & { yes?: boolean }) => {
      result.code = await workflows().workflowsDelete(name, opts, io);
    });
  api(
    wf
      .command('run')
      .description('start a run of the published (or a given) version and follow it like weft run --api: exit 0 completed, 1 failed/partial/canceled; --async: print the run id')
      .argument('<name>'),
  )
    // Not --version: the program's own --version would answer first.
    .option('--workflow-version <n>', 'a stored version (default: the published one)')
    .option('-i, --input <name=value>', 'a workflow input (repeatable)', collect, [])
    .option('--inputs-file <file>', 'inputs as a JSON object')
    .option('--async', 'print the run id and exit 0 without following it')
    .option('--idempotency-key <key>', 'the same key returns the same run instead of starting another')
    .action(async (name: string, opts: Api & { workflowVersion?: string; input: string[]; inputsFile?: string; async?: boolean; idempotencyKey?: string }) => {
      result.code = await workflows().workflowsRun(name, { ...opts, version: opts.workflowVersion }, io);
    });

  const rn = program.command('runs').description('runs on a deployment: list, show, output, checkpoints, cancel, resume, retry, rerun');
  api(rn.command('list').description('runs, newest first'))
    .option('-w, --workflow <name>', 'one workflow')
    .option('--status <list>', 'comma-separated statuses')
    .option('--since <when>', 'a duration back from now (24h) or an ISO time')
    .option('--limit <n>', 'at most this many (default: 20)')
    .action(async (opts: Api & { workflow?: string; status?: string; since?: string; limit?: string }) => {
      result.code = await runs().runsList(opts, io);
    });
  api(rn.command('show').description('a run and its steps').argument('<runId>')).action(async (runId: string, opts: Api) => {
    result.code = await runs().runsShow(runId, opts, io);
  });
  api(rn.command('why').description('for every unfinished step, the one reason it has not moved and since when').argument('<runId>')).action(async (runId: string, opts: Api) => {
    result.code = await lazy<typeof import('./commands/why.command')>('./commands/why.command').runsWhy(runId, opts, io);
  });
  api(rn.command('output').description('a finished run\'s status and outputs (exit 2 while it runs)').argument('<runId>')).action(async (runId: string, opts: Api) => {
    result.code = await runs().runsOutput(runId, opts, io);
  });
  api(rn.command('checkpoints').description('the checkpoints of a run\'s completed steps (from the journal); with a step, that one in full').argument('<runId>').argument('[stepId]')).action(
    async (runId: string, stepId: string | undefined, opts: Api) => {
      result.code = await runs().runsCheckpoints(runId, stepId, opts, io);
    },
  );
  api(rn.command('cancel').description('cancel a run').argument('<runId>'))
    .option('--reason <text>', 'why')
    .action(async (runId: string, opts: Api & { reason?: string }) => {
      result.code = await runs().runsCancel(runId, opts, io);
    });
  api(rn.command('resume').description('dispatch a stuck run\'s in-flight steps again and fire its retries now').argument('<runId>')).action(
    async (runId: string, opts: Api) => {
      result.code = await runs().runsResume(runId, opts, io);
    },
  );
  api(rn.command('retry').description('re-run the failed, canceled and skipped steps of a finished run').argument('<runId>')).action(
    async (runId: string, opts: Api) => {
      result.code = await runs().runsRetry(runId, opts, io);
    },
  );
  api(rn.command('rerun').description('a new run reusing the outputs of every step not downstream of --from').argument('<runId>'))
    .option('--from <step>', 'the step to run again from (default: every step)')
    // Not --version: the program's own --version would answer first.
    .option('--workflow-version <n>', 'run a stored version (or "published") instead of the old run\'s spec')
    .option('-f, --follow', 'show the new run to its end; exit like weft run')
    .action(async (runId: string, opts: Api & { from?: string; workflowVersion?: string; follow?: boolean }) => {
      result.code = await runs().runsRerun(runId, { ...opts, version: opts.workflowVersion }, io);
    });

  api(program.command('logs').description('a run\'s steps; --follow streams its events until it ends').argument('<runId>'))
    .option('-f, --follow', 'follow the run live (Server-Sent Events)')
    .action(async (runId: string, opts: Api & { follow?: boolean }) => {
      result.code = await lazy<typeof import('./commands/logs.command')>('./commands/logs.command').logsCommand(runId, opts, io);
    });

  const catalog = () => lazy<typeof import('./commands/catalog.command')>('./commands/catalog.command');
  const cat = program.command('catalog').description('what a deployment offers: actions (built in and announced by workers) and templates');
  api(cat.command('actions').description('actions: name, source (builtin, workers), queues, description')).action(async (opts: Api) => {
    result.code = await catalog().catalogActions(opts, io);
  });
  api(cat.command('templates').description('workflow templates: name, steps, description')).action(async (opts: Api) => {
    result.code = await catalog().catalogTemplates(opts, io);
  });

  const keysCommand = () => lazy<typeof import('./commands/keys.command')>('./commands/keys.command');
  const keys = program.command('keys').description('API keys: create, list, revoke');
  api(keys.command('create').description('make an API key for a namespace, printed once: through --api, or straight in the database'))
    .option('-n, --namespace <name>', 'the namespace it opens (default: default)')
    .option('--name <label>', 'a label for people')
    .action(async (opts: Api & { namespace?: string; name?: string }) => {
      result.code = await keysCommand().keysCreate(opts, io);
    });
  api(keys.command('list').description('the keys of the caller\'s namespace (never the keys themselves); over the API only')).action(async (opts: Api) => {
    result.code = await keysCommand().keysList(opts, io);
  });
  api(keys.command('revoke').description('revoke a key: it stops working at once; over the API only').argument('<keyId>')).action(async (keyId: string, opts: Api) => {
    result.code = await keysCommand().keysRevoke(keyId, opts, io);
  });

  const triggersCommand = () => lazy<typeof import('./commands/triggers.command')>('./commands/triggers.command');
  const tr = program.command('triggers').description('triggers of the published versions: list, fires, pause, resume, fire, backfill, test');
  api(tr.command('list').description('every trigger: kind, state, next fire, last fire, outcome counts')).action(async (opts: Api) => {
    result.code = await triggersCommand().triggersList(opts, io);
  });
  api(tr.command('fires').description('the fire log of a trigger, newest first').argument('<workflow>').argument('<trigger>'))
    .option('--limit <n>', 'rows, 1..500 (default: 50)')
    .option('--outcome <outcome>', 'only fired, skipped, missed, filtered, duplicate, refused or failed')
    .action(async (workflow: string, trigger: string, opts: Api & { limit?: string; outcome?: string }) => {
      result.code = await triggersCommand().triggersFires(workflow, trigger, opts, io);
    });
  for (const verb of ['pause', 'resume'] as const) {
    api(tr.command(verb).description(verb === 'pause' ? 'pause a trigger (its occurrences are recorded as skipped)' : 'resume a paused trigger').argument('<workflow>').argument('<trigger>')).action(
      async (workflow: string, trigger: string, opts: Api) => {
        result.code = await triggersCommand().triggersSetPaused(verb === 'pause', workflow, trigger, opts, io);
      },
    );
  }
  api(tr.command('fire').description('start a run now').argument('<workflow>').argument('<trigger>'))
    .option('-i, --input <name=value>', 'an input over the trigger\'s own (repeatable)', collect, [])
    .option('--inputs-file <file>', 'a JSON object of inputs')
    .option('--key <key>', 'idempotency: a repeated key starts one run')
    .action(async (workflow: string, trigger: string, opts: Api & { input?: string[]; inputsFile?: string; key?: string }) => {
      result.code = await triggersCommand().triggersFire(workflow, trigger, opts, io);
    });
  api(tr.command('backfill').description('cron: one run per tick in a range (overlap policy applied)').argument('<workflow>').argument('<trigger>'))
    .option('--from <time>', 'ISO-8601 start (inclusive)')
    .option('--to <time>', 'ISO-8601 end (inclusive)')
    .action(async (workflow: string, trigger: string, opts: Api & { from?: string; to?: string }) => {
      result.code = await triggersCommand().triggersBackfill(workflow, trigger, opts, io);
    });
  api(tr.command('test').description('what the trigger would do with a sample (poll: one real fetch); starts nothing').argument('<workflow>').argument('<trigger>'), false)
    .option('--event <file>', 'subject/event: a JSON sample event ({ data, headers })')
    .option('--body <file>', 'webhook: the delivery body, as sent')
    .option('-H, --header <name:value>', 'webhook: a delivery header (repeatable)', collect, [])
    .option('--at <time>', 'cron: evaluate at this ISO-8601 time')
    .action(async (workflow: string, trigger: string, opts: Api & { event?: string; body?: string; header?: string[]; at?: string }) => {
      result.code = await triggersCommand().triggersTest(workflow, trigger, opts, io);
    });

  const waits = () => lazy<typeof import('./commands/waits.command')>('./commands/waits.command');
  api(program.command('signal').description('send a signal: an outside event that wait.event steps wait for').argument('<name>'))
    .option('--key <key>', 'only waits with this key (or none) take it')
    .option('--data <json>', 'its data: JSON, or @file')
    .option('--id <id>', 'a repeated id is the same signal')
    .action(async (name: string, opts: Api & { key?: string; data?: string; id?: string }) => {
      result.code = await waits().signalSend(name, opts, io);
    });
  api(program.command('signals').description('signals received (kept for WEFT_SIGNAL_RETENTION), oldest first'))
    .option('--name <name>', 'only this signal name')
    .option('--key <key>', 'only this key')
    .option('--since <time>', 'received at or after this ISO-8601 time')
    .action(async (opts: Api & { name?: string; key?: string; since?: string }) => {
      result.code = await waits().signalsList(opts, io);
    });
  api(program.command('audit').description('the audit log of the namespace: who sent signals and decided reviews (oldest first)'))
    .option('--target <kind:id>', 'only records about this, e.g. review:<id>')
    .option('--actor <keyId|local>', 'only records by this API key (or local)')
    .option('--action <action>', 'only this action, e.g. review.decided')
    .option('--since <time>', 'at or after this ISO-8601 time')
    .action(async (opts: Api & { target?: string; actor?: string; action?: string; since?: string }) => {
      result.code = await waits().auditList(opts, io);
    });
  const ex = program.command('exceptions').description('the exception queue: open reviews, failed and stuck runs (list, show, retry, cancel, resolve)');
  api(ex.command('list').description('what needs a person, oldest first'))
    .option('--kind <kind>', 'review, low-confidence, blocked, failed or dead-letter')
    .option('--workflow <name>', 'only this workflow')
    .option('--since <time>', 'at or after this ISO-8601 time')
    .option('--resolved', 'resolved items too')
    .action(async (opts: Api & { kind?: string; workflow?: string; since?: string; resolved?: boolean }) => {
      result.code = await waits().exceptionsList(opts, io);
    });
  for (const action of ['retry', 'cancel'] as const) {
    api(
      ex
        .command(action)
        .description(action === 'retry' ? 'retry a failed run or resume a stuck one; without <kind> <id>, every open item the filters match' : 'cancel the run of an item; without <kind> <id>, of every open item the filters match')
        .argument('[kind]')
        .argument('[id]'),
    )
      .option('--kind <kind>', 'bulk: review, low-confidence, blocked, failed or dead-letter')
      .option('--workflow <name>', 'bulk: only this workflow')
      .option('--since <time>', 'bulk: at or after this ISO-8601 time')
      .action(async (kind: string | undefined, id: string | undefined, opts: Api & { kind?: string; workflow?: string; since?: string }) => {
        result.code = await waits().exceptionsAct(action, kind, id, opts, io);
      });
  }
  api(ex.command('show').description('one item of the queue, resolved or not').argument('<kind>').argument('<id>')).action(async (kind: string, id: string, opts: Api) => {
    result.code = await waits().exceptionsShow(kind, id, opts, io);
  });
  api(ex.command('resolve').description('resolve an item with a note (it stays in history)').argument('<kind>').argument('<id>'))
    .option('--note <text>', 'why (required)')
    .action(async (kind: string, id: string, opts: Api & { note?: string }) => {
      result.code = await waits().exceptionsResolve(kind, id, opts, io);
    });
  const rv = program.command('reviews').description('reviews: step outputs held for a decision (list, show, decide)');
  api(rv.command('list').description('reviews of the namespace, oldest first'))
    .option('--status <status>', 'open, decided or canceled (default: open)')
    .option('--workflow <name>', 'only this workflow')
    .option('--assignee <name>', 'only reviews for this assignee')
    .action(async (opts: Api & { status?: string; workflow?: string; assignee?: string }) => {
      result.code = await waits().reviewsList(opts, io);
    });
  api(rv.command('show').description('the output under review, the form, the run and step').argument('<id>')).action(async (id: string, opts: Api) => {
    result.code = await waits().reviewsShow(id, opts, io);
  });
  api(rv.command('decide').description('decide: continue, correct (--payload), retry, reject or escalate').argument('<id>').argument('<decision>'))
    .option('--payload <json>', 'correct: the output that replaces the held one (JSON, or @file)')
    .option('--comment <text>', 'why')
    .action(async (id: string, decision: string, opts: Api & { payload?: string; comment?: string }) => {
      result.code = await waits().reviewsDecide(id, decision, opts, io);
    });
}
