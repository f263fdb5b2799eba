import type { InsightsHttp, JournalHttp } from '@weft/contracts';
import type * as Api from '@weft/scheduler';
import type * as Sdk from '@weft/sdk';
import type { z } from 'zod';

/**
 * The SDK's types of the scheduler's API are written by hand; the server's come from its
 * zod schemas (in a service, which the SDK cannot import). This file does not compile (tsc,
 * `npm test`) when the two drift apart: each line below is `true` only for identical types.
 * Specs are `unknown` on the server (they are validated like `weft validate`, not by the
 * route schema), WorkflowSpec in the SDK. The journal's and insights' answer types are
 * inferred from JournalHttp/InsightsHttp in @weft/contracts, so only what the SDK adds is
 * checked here: its page shape, and that its query options name every query parameter
 * those schemas know.
 */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type SpecAsUnknown<T> = { [K in keyof T]: K extends 'spec' ? unknown : T[K] };
type Journal<K extends keyof typeof JournalHttp> = z.output<(typeof JournalHttp)[K]>;
/** The query parameters an SDK query object sends (`cursor` goes out as `after`). */
type Params<T> = { [K in keyof T]-?: K extends 'cursor' ? 'after' : K }[keyof T];

const checks = {
  workflow: true satisfies Same<Api.WorkflowView, Sdk.Workflow>,
  draft: true satisfies Same<Api.DraftView, SpecAsUnknown<Sdk.Draft>>,
  version: true satisfies Same<Api.VersionView, Sdk.Version>,
  versionDetail: true satisfies Same<Api.VersionDetailView, SpecAsUnknown<Sdk.VersionDetail>>,
  step: true satisfies Same<Api.StepView, Sdk.Step>,
  runSummary: true satisfies Same<Api.RunSummaryView, Sdk.RunSummary>,
  run: true satisfies Same<Api.RunView, SpecAsUnknown<Sdk.Run>>,
  runPage: true satisfies Same<Api.RunPageView, Sdk.Page<Sdk.RunSummary>>,
  runAccepted: true satisfies Same<Api.RunAcceptedView, Sdk.RunAccepted>,
  runOutput: true satisfies Same<Api.RunOutputView, Sdk.RunOutput>,
  validation: true satisfies Same<Api.ValidationResultView, Sdk.ValidationResult>,
  action: true satisfies Same<Api.CatalogActionView, Sdk.CatalogAction>,
  template: true satisfies Same<Api.TemplateView, SpecAsUnknown<Sdk.Template>>,
  apiKey: true satisfies Same<Api.ApiKeyView, Sdk.ApiKey>,
  createdKey: true satisfies Same<Api.CreatedApiKeyView, Sdk.CreatedApiKey>,
  // The journal.
  eventPage: true satisfies Same<Journal<'EventPage'>, Sdk.Page<Sdk.JournalEntry>>,
  runEventsQuery: true satisfies Same<keyof z.input<typeof JournalHttp.RunEventsQuery>, Params<Sdk.RunEventsQuery>>,
  eventsQuery: true satisfies Same<keyof z.input<typeof JournalHttp.EventsQuery>, Params<Sdk.EventsQuery>>,
  insightsQuery: true satisfies Same<
    keyof z.input<typeof InsightsHttp.InsightsQuery>,
    Params<Sdk.InsightsSummaryQuery> | Params<Sdk.InsightsHotspotsQuery> | Params<Sdk.InsightsTrendsQuery>
  >,
};

describe('the SDK client types', () => {
  it('equal the API schemas they mirror (checked by the compiler)', () => {
    expect(Object.values(checks).every((check) => check)).toBe(true);
    expect(Object.keys(checks)).toHaveLength(19);
  });
});
