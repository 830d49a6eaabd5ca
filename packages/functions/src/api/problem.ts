import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
// Modules, not the package's index: the API's INIT imports this file (see handlers/runtime.ts).
import { ConflictError, ForbiddenError, NotFoundError, RateLimitedError, UnauthorizedError, ValidationError, type FieldIssue } from '@rapport/core/shared/errors';
import { errorFields, logger } from '../logger';

/** RFC 9457 problem details. `type` is stable: clients may switch on it. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: FieldIssue[];
  [extension: string]: unknown;
}

export const PROBLEM_TYPES = {
  validation: { status: 400, title: 'The request is not valid' },
  'malformed-json': { status: 400, title: 'The body is not valid JSON' },
  unauthorized: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Not allowed for this API key' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict with the current state' },
  'idempotency-in-progress': { status: 409, title: 'A request with this Idempotency-Key is still in progress' },
  'payload-too-large': { status: 413, title: 'The body is too large' },
  'unsupported-media-type': { status: 415, title: 'The body must be JSON' },
  'idempotency-key-reused': { status: 422, title: 'This Idempotency-Key was used with another request' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Something went wrong on our side' },
} as const;

export type ProblemType = keyof typeof PROBLEM_TYPES;

export const problemTypeUri = (type: ProblemType) => `urn:rapport:problem:${type}`;

export function problem(c: Context, type: ProblemType, detail?: string, extra: Partial<Problem> = {}): Response {
  const { status, title } = PROBLEM_TYPES[type];
  const body: Problem = { type: problemTypeUri(type), title, status, ...(detail ? { detail } : {}), ...extra };
  return c.body(JSON.stringify(body), status as ContentfulStatusCode, { 'Content-Type': 'application/problem+json' });
}

/** The one place where errors become responses. */
export function errorToResponse(error: unknown, c: Context): Response {
  if (error instanceof ValidationError) return problem(c, 'validation', error.message, { errors: error.issues });
  if (error instanceof ConflictError) {
    return problem(c, 'conflict', error.message, error.field ? { errors: [{ field: error.field, message: error.message }] } : {});
  }
  if (error instanceof UnauthorizedError) {
    c.header('WWW-Authenticate', 'Bearer realm="rapport"');
    return problem(c, 'unauthorized', error.message);
  }
  if (error instanceof NotFoundError) return problem(c, 'not-found', error.message);
  if (error instanceof ForbiddenError) return problem(c, 'forbidden', error.message);
  if (error instanceof RateLimitedError) {
    c.header('Retry-After', String(error.retryAfterSeconds));
    return problem(c, 'rate-limited', error.message);
  }
  if (error instanceof HTTPException) {
    if (error.status === 400 && /JSON/i.test(error.message)) return problem(c, 'malformed-json', error.message);
    if (error.status === 413) return problem(c, 'payload-too-large');
    const known = Object.entries(PROBLEM_TYPES).find(([, p]) => p.status === error.status);
    if (known) return problem(c, known[0] as ProblemType, error.message);
  }
  logger.error('unhandled error', errorFields(error, { stack: true }));
  return problem(c, 'internal');
}
