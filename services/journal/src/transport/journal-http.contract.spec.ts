import { JournalHttp } from '@weft/contracts';
import type { AnswerOf, Same } from '@weft/platform/testing';
import type { z } from 'zod';
import { storyOfARun } from '../testing/journal.fixtures';
import { toJournalEntry } from '../domain/journal-entry.util';
import type { Checkpoint } from '../domain/journal.types';
import { reconstructRun, runHistory } from '../domain/run-fold.util';
import type { JournalController } from './journal.controller';

/**
 * The journal's answers are TypeScript types; the API's schemas (JournalHttp in
 * @weft/contracts, which GET /openapi.json publishes) are zod. This file does not compile
 * (tsc, `npm test`) when a route's answer and its schema drift apart: each line is `true`
 * only for identical types.
 */
type Answer<K extends keyof JournalController> = AnswerOf<JournalController, K>;

const checks = {
  history: true satisfies Same<Answer<'history'>, z.infer<typeof JournalHttp.RunHistory>>,
  runEvents: true satisfies Same<Answer<'runEvents'>, z.infer<typeof JournalHttp.EventPage>>,
  checkpoints: true satisfies Same<Answer<'checkpoints'>, z.infer<typeof JournalHttp.CheckpointList>>,
  checkpoint: true satisfies Same<Answer<'checkpoint'>, z.infer<typeof JournalHttp.Checkpoint>>,
  reconstruct: true satisfies Same<Answer<'reconstruct'>, z.infer<typeof JournalHttp.RunReconstruction>>,
  events: true satisfies Same<Answer<'events'>, z.infer<typeof JournalHttp.EventPage>>,
};

describe('the journal\'s HTTP answers', () => {
  it('have the types of the API schemas (checked by the compiler)', () => {
    expect(Object.values(checks).every((check) => check)).toBe(true);
    expect(Object.keys(checks)).toHaveLength(6);
  });

  it('pass the API schemas at run time too (a whole story: retries, a skip, a timeout, a partial end)', () => {
    const entries = storyOfARun('r1').map((event) => toJournalEntry(event).entry);
    const checkpoints: Checkpoint[] = [
      { runId: 'r1', workflow: 'data-pipeline', version: '3', stepId: 'ingest', attempt: 1, eventId: 'r1:4:0', at: '2026-01-05T10:00:00.110Z', output: { rows: 3 }, state: { ingest: { rows: 3 } } },
    ];
    const reconstruction = reconstructRun(entries, checkpoints);
    expect(reconstruction).toBeDefined();
    if (!reconstruction) return;
    expect(JournalHttp.RunReconstruction.safeParse(reconstruction).error).toBeUndefined();
    expect(JournalHttp.RunHistory.safeParse(runHistory(reconstruction)).error).toBeUndefined();
    expect(JournalHttp.EventPage.safeParse({ items: entries, nextCursor: null }).error).toBeUndefined();
    expect(JournalHttp.CheckpointList.safeParse(checkpoints).error).toBeUndefined();
  });
});
