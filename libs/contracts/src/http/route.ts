import type { z } from 'zod';

/**
 * One route of the /v1 API, whichever service serves it, with the schemas it validates
 * with: the scheduler's OpenAPI document is built from these tables, and tests check them
 * against the controllers and the ingress.
 */
export type HttpMethod = 'get' | 'post' | 'patch' | 'delete';

export interface RouteResponse {
  description: string;
  /** The JSON body (absent: no body). */
  schema?: z.ZodType;
  /** `text/event-stream` of this event schema instead of JSON. */
  events?: z.ZodType;
  /** `application/problem+json`. */
  problem?: boolean;
  headers?: string[];
}

export interface RouteSpec {
  method: HttpMethod;
  /** OpenAPI form: `/v1/runs/{id}`. */
  path: string;
  summary: string;
  tag: string;
  body?: z.ZodType;
  query?: z.ZodObject;
  params?: z.ZodObject;
  /** Request headers the route reads. */
  headers?: { name: string; description: string }[];
  responses: Record<number, RouteResponse>;
  /** false: no API key needed. @default true */
  auth?: boolean;
}

/** RFC 7807 problem details, with the error's stable `code` as an extension member: every API error's body. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  code: string;
}

/** A response that is a problem document (RFC 7807). */
export const problemResponse = (description: string): RouteResponse => ({ description, problem: true });
