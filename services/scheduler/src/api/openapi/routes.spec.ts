import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { CatalogController } from '../catalog.controller';
import { KeysController } from '../keys.controller';
import { RunsController } from '../runs.controller';
import { WorkflowsController } from '../workflows.controller';
import { buildOpenApiDocument } from './openapi.document';
import { OpenApiController } from './openapi.controller';
import { ROUTE_LIST } from './routes';

const CONTROLLERS = [WorkflowsController, RunsController, CatalogController, KeysController, OpenApiController];

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

describe('the route table', () => {
  it('lists exactly the routes the controllers mount', () => {
    const table = ROUTE_LIST.map((r) => `${r.method.toUpperCase()} ${r.path}`).sort();
    expect(mountedRoutes()).toEqual(table);
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
});
