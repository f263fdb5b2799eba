import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { CatalogController } from '../catalog.controller';
import { KeysController } from '../keys.controller';
import { RunsController } from '../runs.controller';
import { WorkflowsController } from '../workflows.controller';
import { ReviewsController } from '../reviews.controller';
import { SignalsController } from '../signals.controller';
import { AuditController } from '../audit.controller';
import { ExceptionsController } from '../exceptions.controller';
import { FlowController } from '../flow.controller';
import { StepOutputController } from '../step-output.controller';
import { buildOpenApiDocument } from './openapi.document';
import { OpenApiController } from './openapi.controller';
import { INSIGHTS_ROUTES, JOURNAL_ROUTES, ROUTE_LIST, SCHEDULER_ROUTES, TRIGGERS_ROUTES } from './routes';

const CONTROLLERS = [WorkflowsController, RunsController, CatalogController, KeysController, OpenApiController, SignalsController, ReviewsController, FlowController, AuditController, StepOutputController, ExceptionsController];

/** `METHOD /path/{param}` of every handler Nest will mount. */
function mountedRoutes(): string[] {
  const routes: string[] = [];
  for (const controller of CONTROLLERS) {
    const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const handler: unknown = controller.prototype[name as keyof typeof controller.prototype];
      if (typeof handler !== 'function') continue;
      const path: unknown = Reflect.getMetadata(PATH_METADATA, handler);
      const method: unknown = Reflect.getMetadata(METHOD_METADATA, handler);
      if (typeof path !== 'string' || typeof method !== 'number') continue;
      const full = `/${[base, path].filter((p) => p !== '' && p !== '/').join('/')}`.replace(/:(\w+)/g, '{$1}');
      routes.push(`${RequestMethod[method]} ${full}`);
    }
  }
  return routes.sort();
}

const key = (r: { method: string; path: string }): string => `${r.method.toUpperCase()} ${r.path}`;

describe('the route table', () => {
  it('lists exactly the routes the scheduler\'s controllers mount (libs/cli checks the journal\'s and analytics\' in weft dev)', () => {
    expect(mountedRoutes()).toEqual(Object.values(SCHEDULER_ROUTES).map(key).sort());
  });

  it('has every route of every service once', () => {
    const parts = [SCHEDULER_ROUTES, JOURNAL_ROUTES, INSIGHTS_ROUTES, TRIGGERS_ROUTES].map((routes) => Object.keys(routes).length);
    expect(ROUTE_LIST).toHaveLength(parts.reduce((a, b) => a + b));
    expect(new Set(ROUTE_LIST.map(key)).size).toBe(ROUTE_LIST.length);
  });
});

describe('buildOpenApiDocument', () => {
  const doc = buildOpenApiDocument() as {
    openapi: string;
    paths: Record<string, Record<string, { parameters?: { name: string; in: string; required: boolean }[]; requestBody?: unknown; responses: Record<string, unknown> }>>;
    components: { schemas: Record<string, Record<string, unknown>> };
  };

  it('is OpenAPI 3.1 with the spec schema and named components for bodies and responses', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.schemas.WorkflowSpec).toMatchObject({ type: 'object', title: 'Weft workflow (spec v1)' });
    expect(doc.components.schemas.Run).toMatchObject({ type: 'object', properties: { spec: { $ref: '#/components/schemas/WorkflowSpec' } } });
    expect(doc.components.schemas.CreateWorkflowBody).toMatchObject({ type: 'object', additionalProperties: false });
    expect(JSON.stringify(doc)).not.toContain('"$schema"');
  });

  it('describes parameters, bodies and problem responses from the same schemas', () => {
    const start = doc.paths['/v1/workflows/{id}/runs'].post;
    expect(start.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'id', in: 'path', required: true }),
        expect.objectContaining({ name: 'mode', in: 'query', required: false }),
        expect.objectContaining({ name: 'Idempotency-Key', in: 'header' }),
      ]),
    );
    expect(start.requestBody).toEqual({ required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/StartRunBody' } } } });
    expect(Object.keys(start.responses).sort()).toEqual(['200', '202', '400', '401', '404', '409', '413', '415', '422']);
    expect(doc.paths['/openapi.json'].get).toMatchObject({ security: [] });
    expect(Object.keys(doc.paths['/v1/catalog/actions'].get.responses)).toEqual(['200', '401']);
  });

  it('describes the journal\'s and analytics\' routes from the schemas their query parsing validates with', () => {
    const events = doc.paths['/v1/events'].get as (typeof doc.paths)[string][string] & { tags: string[] };
    expect(events.tags).toEqual(['journal']);
    expect(events.parameters?.map((p) => `${p.in}:${p.name}:${p.required}`)).toEqual([
      'query:type:false',
      'query:since:false',
      'query:until:false',
      'query:limit:false',
      'query:after:false',
      'query:workflow:false',
      'query:runId:false',
    ]);
    expect(Object.keys(events.responses).sort()).toEqual(['200', '400', '401']);
    expect(events.responses['200']).toMatchObject({ content: { 'application/json': { schema: { $ref: '#/components/schemas/EventPage' } } } });
    expect(doc.paths['/v1/runs/{id}/events'].get.parameters?.map((p) => p.name)).toEqual(['id', 'type', 'since', 'until', 'limit', 'after']);
    expect(doc.paths['/v1/runs/{id}/checkpoints/{stepId}'].get.parameters?.map((p) => `${p.in}:${p.name}`)).toEqual(['path:id', 'path:stepId']);
    // Path ids have a maximum length (issue 12), so even a route with nothing else to validate can answer 400.
    expect(Object.keys(doc.paths['/v1/runs/{id}/history'].get.responses).sort()).toEqual(['200', '400', '401', '404']);
    expect(Object.keys(doc.paths['/v1/runs/{id}/events'].get.responses)).toContain('400');
    expect(Object.keys(doc.paths['/v1/runs/{id}'].get.responses)).toContain('400');
    expect(Object.keys(doc.paths['/v1/workflows/{id}/versions/{version}'].get.responses)).toContain('400');
    expect(doc.components.schemas.RunHistory).toMatchObject({ properties: { run: { $ref: '#/components/schemas/JournalRunSummary' } } });
    expect(doc.components.schemas.EventPage).toMatchObject({ properties: { items: { items: { $ref: '#/components/schemas/JournalEntry' } } } });

    const trends = doc.paths['/v1/insights/trends'].get;
    expect(trends.parameters?.find((p) => p.name === 'granularity')).toMatchObject({ in: 'query', required: false, schema: { type: 'string', enum: ['hour', 'day'] } });
    expect(Object.keys(trends.responses).sort()).toEqual(['200', '400', '401']);
    expect(doc.components.schemas.InsightTrend).toMatchObject({ properties: { trend: { $ref: '#/components/schemas/DurationTrend' } } });
    expect((doc as unknown as { tags: { name: string }[] }).tags.map((t) => t.name)).toEqual(expect.arrayContaining(['journal', 'insights']));
  });
});
