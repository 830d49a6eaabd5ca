import type { ValidationTargets } from 'hono';
import { createMiddleware } from 'hono/factory';
import { validator } from 'hono-openapi';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { ValidationError } from '@rapport/core';

const fieldOf = (issue: StandardSchemaV1.Issue): string =>
  issue.path?.map((segment) => String(typeof segment === 'object' ? segment.key : segment)).join('.') || '(body)';

/**
 * Every JSON body of the API is an object. Valibot's object schemas take an array (`[]` passes an
 * object of optional fields), so anything else is refused before the schema sees it. Malformed JSON
 * is left to the validator, which reports it as such.
 */
const requireObjectBody = createMiddleware(async (c, next) => {
  const body: unknown = await c.req.json().catch(() => ({}));
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw ValidationError.field('(body)', 'must be a JSON object');
  await next();
});

/**
 * Validates one part of the request with a valibot schema and documents it in the OpenAPI
 * document. A failure throws ValidationError, which the error mapper turns into a problem
 * naming each bad field.
 */
export const validate = <Target extends keyof ValidationTargets, Schema extends StandardSchemaV1>(
  target: Target,
  schema: Schema,
) => {
  const check = validator(target, schema, (result) => {
    if (!result.success) {
      throw new ValidationError(result.error.map((issue) => ({ field: fieldOf(issue), message: issue.message })));
    }
  });
  if (target !== 'json') return check;
  // One middleware still, carrying over the validator's OpenAPI description (a symbol-keyed property).
  const checkBody = Object.assign(((c, next) => requireObjectBody(c, () => check(c, next) as Promise<void>)) as typeof check, check);
  return checkBody;
};
