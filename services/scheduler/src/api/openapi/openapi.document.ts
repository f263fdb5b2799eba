import { InsightsHttp, JournalHttp } from '@weft/contracts';
import { workflowJsonSchema } from '@weft/core';
import { z } from 'zod';
import * as S from '../api.schemas';
import * as W from '../wait.schemas';
import * as F from '../flow.schemas';
import { COMMON_PROBLEMS, ROUTES, type RouteResponse, type RouteSpec } from './routes';

type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

/** The modules of API schemas: the scheduler's own, and the journal's and analytics' in @weft/contracts. */
const SCHEMA_MODULES: readonly Record<string, unknown>[] = [S, W, F, JournalHttp, InsightsHttp];

/**
 * Every exported response and body schema of the API's schema modules, by its export name
 * (query and path schemas become parameters). Names are unique across the modules.
 */
function namedSchemas(): Map<z.ZodType, string> {
  const named = new Map<z.ZodType, string>();
  const taken = new Set<string>();
  for (const module of SCHEMA_MODULES) {
    for (const [name, value] of Object.entries(module)) {
      if (!(value instanceof z.ZodType) || value === S.SpecObject || /(Query|Path)$/.test(name)) continue;
      if (named.has(value)) continue;
      if (taken.has(name)) throw new Error(`two API schemas are named ${name}: rename one (the name is its OpenAPI component)`);
      taken.add(name);
      named.set(value, name);
    }
  }
  return named;
}

function stripMeta(schema: Json): Json {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

/** A path parameter that takes any path segment (a plain string): it can never be the reason for a 400. */
function anySegment(schema: z.ZodType): boolean {
  const { type, minLength, ...rest } = inline(schema) as { type?: unknown; minLength?: unknown };
  return type === 'string' && (minLength === undefined || minLength === 1) && Object.keys(rest).length === 0;
}

/** JSON Schema (2020-12) of one schema, inline; spec objects become a $ref to WorkflowSpec. */
function inline(schema: z.ZodType): Json {
  return stripMeta(z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', override: specAsRef }) as Json);
}

function specAsRef(ctx: { zodSchema: unknown; jsonSchema: Json }): void {
  if (ctx.zodSchema !== S.SpecObject) return;
  for (const key of Object.keys(ctx.jsonSchema)) delete ctx.jsonSchema[key];
  Object.assign(ctx.jsonSchema, ref('WorkflowSpec'));
}

/**
 * The OpenAPI 3.1 document of the API, built from the route table and the zod schemas the
 * controllers validate with (zod 4's JSON Schema output is 2020-12, OpenAPI 3.1's dialect).
 */
export function buildOpenApiDocument(info: { version: string } = { version: '0.1.0' }): Json {
  const named = namedSchemas();
  const registry = z.registry<{ id: string }>();
  for (const [schema, name] of named) registry.add(schema, { id: name });
  const generated = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io: 'input',
    uri: (id) => `#/components/schemas/${id}`,
    override: specAsRef,
  }) as { schemas: Record<string, Json> };
  const schemas: Record<string, Json> = { WorkflowSpec: stripMeta(workflowJsonSchema()) };
  for (const [name, schema] of Object.entries(generated.schemas)) schemas[name] = stripMeta(schema);

  const schemaRef = (schema: z.ZodType): Json => {
    const name = named.get(schema);
    return name === undefined ? inline(schema) : ref(name);
  };
  const response = (r: RouteResponse): Json => {
    const content: Json = {};
    if (r.schema) content['application/json'] = { schema: schemaRef(r.schema) };
    // OpenAPI 3.1 cannot type the events of a stream: the extension names the schema of each `data:`.
    if (r.events) content['text/event-stream'] = { schema: { type: 'string' }, 'x-event-schema': schemaRef(r.events) };
    if (r.problem) content['application/problem+json'] = { schema: ref('Problem') };
    return {
      description: r.description,
      ...(r.headers && { headers: Object.fromEntries(r.headers.map((h) => [h, { schema: { type: 'string' } }])) }),
      ...(Object.keys(content).length > 0 && { content }),
    };
  };

  const paths: Record<string, Record<string, Json>> = {};
  for (const [operationId, route] of Object.entries(ROUTES) as [string, RouteSpec][]) {
    const parameters: Json[] = [];
    for (const [where, shape] of [
      ['path', route.params?.shape],
      ['query', route.query?.shape],
    ] as const) {
      for (const [name, field] of Object.entries(shape ?? {})) {
        const schema = field as z.ZodType;
        parameters.push({ name, in: where, required: where === 'path' || !schema.safeParse(undefined).success, schema: inline(schema) });
      }
    }
    for (const h of route.headers ?? []) parameters.push({ name: h.name, in: 'header', required: false, description: h.description, schema: { type: 'string' } });
    const common = Object.entries(COMMON_PROBLEMS).filter(([status]) => {
      if (status === '401') return route.auth !== false;
      if (status === '413' || status === '415') return route.body !== undefined;
      return route.body !== undefined || route.query !== undefined || Object.values(route.params?.shape ?? {}).some((p) => !anySegment(p as z.ZodType));
    });
    const responses = Object.fromEntries([...common, ...Object.entries(route.responses)].map(([status, r]) => [status, response(r)]));
    (paths[route.path] ??= {})[route.method] = {
      operationId,
      summary: route.summary,
      tags: [route.tag],
      ...(route.auth === false && { security: [] }),
      ...(parameters.length > 0 && { parameters }),
      ...(route.body && { requestBody: { required: true, content: { 'application/json': { schema: schemaRef(route.body) } } } }),
      responses,
    };
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'Weft control-plane API',
      version: info.version,
      description:
        'Workflows, drafts, versions and runs of one namespace per API key, their journal (history, events, checkpoints) and insights. Errors are RFC 7807 problem documents. See docs/api.md.',
    },
    servers: [{ url: '/' }],
    security: [{ bearerAuth: [] }],
    tags: ['workflows', 'versions', 'runs', 'signals', 'reviews', 'exceptions', 'audit', 'journal', 'insights', 'triggers', 'hooks', 'catalog', 'keys', 'meta'].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key: weft_<id>_<secret> (`weft keys create`).' } },
      schemas,
    },
  };
}
