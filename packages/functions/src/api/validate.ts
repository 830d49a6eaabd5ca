import { matchedRoutes } from 'hono/route';
import { createMiddleware } from 'hono/factory';
import type { ValidationTargets } from 'hono';
import { findTargetHandler } from 'hono/utils/handler';
import { describeRoute, uniqueSymbol, validator } from 'hono-openapi';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { openApiSchema, schemaOptions } from './route-docs';
import { check, unknownParameters, validationHook } from './check';

/**
 * `check` (one part of the request validated with a valibot schema), described in the OpenAPI
 * document as hono-openapi's validator describes it. A body's `example` is shown in the document
 * (the OpenAPI test checks it against the schema).
 */
export const validate = <Target extends keyof ValidationTargets, Schema extends StandardSchemaV1>(
  target: Target,
  schema: Schema,
  example?: unknown,
) => {
  // hono-openapi's validator is the same standard validator with the description attached: only the description is taken.
  const description = (validator(target, schema, validationHook, schemaOptions) as unknown as Record<symbol, unknown>)[uniqueSymbol];
  const checked = Object.assign(check(target, schema), { [uniqueSymbol]: description });
  if (target !== 'json' || example === undefined) return checked;
  // Documented as a route description rather than by the validator, which has no place for an example.
  const documented = describeRoute({ requestBody: { required: true, content: { 'application/json': { schema: openApiSchema(schema), example } } } as never });
  return Object.assign(checked, { [uniqueSymbol]: (documented as unknown as Record<symbol, unknown>)[uniqueSymbol] });
};

/**
 * Refuses a query parameter on an operation that validates none (any query at all), as
 * `validate('query', …)` refuses the ones its schema does not name: none is silently ignored.
 */
export const refuseUndeclaredQuery = createMiddleware(async (c, next) => {
  const names = Object.keys(c.req.queries());
  if (names.length > 0) {
    const takesQuery = matchedRoutes(c).some((route) => (findTargetHandler(route.handler) as { [uniqueSymbol]?: { target?: string } })[uniqueSymbol]?.target === 'query');
    if (!takesQuery) throw unknownParameters(names);
  }
  await next();
});
