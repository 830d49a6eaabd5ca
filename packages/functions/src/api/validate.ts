import type { ValidationTargets } from 'hono';
import { createMiddleware } from 'hono/factory';
import { matchedRoutes } from 'hono/route';
import { findTargetHandler } from 'hono/utils/handler';
import { describeRoute, uniqueSymbol, validator } from 'hono-openapi';
import { openApiSchema, schemaOptions } from './route-docs';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { ValidationError } from '@rapport/core';

const fieldOf = (issue: StandardSchemaV1.Issue): string =>
  issue.path?.map((segment) => String(typeof segment === 'object' ? segment.key : segment)).join('.') || '(body)';

type SchemaNode = { type?: string; entries?: Record<string, SchemaNode>; wrapped?: SchemaNode; item?: SchemaNode };

/**
 * The paths where `value` holds an array but `schema` expects an object. Valibot's object schemas
 * take an array (`[]` passes as an object of optional fields), so these are refused before the
 * schema sees them, at the top of the body as inside it.
 */
function arraysForObjects(schema: SchemaNode | undefined, value: unknown, path: string): string[] {
  while (schema?.wrapped) schema = schema.wrapped; // optional, nullable, nullish
  if (!schema) return [];
  if (schema.entries) {
    if (Array.isArray(value)) return [path];
    if (typeof value !== 'object' || value === null) return [];
    const fields = Object.entries(schema.entries);
    return fields.flatMap(([key, entry]) => arraysForObjects(entry, (value as Record<string, unknown>)[key], path ? `${path}.${key}` : key));
  }
  if (schema.item && Array.isArray(value)) return value.flatMap((item, i) => arraysForObjects(schema.item, item, path ? `${path}.${i}` : String(i)));
  return [];
}

/**
 * Every JSON body of the API is an object, and so is every value its schema says is one.
 * Malformed JSON is left to the validator, which reports it as such.
 */
const requireObjects = (schema: StandardSchemaV1) =>
  createMiddleware(async (c, next) => {
    const body: unknown = await c.req.json().catch(() => ({}));
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw ValidationError.field('(body)', 'must be a JSON object');
    const arrays = arraysForObjects(schema as SchemaNode, body, '');
    if (arrays.length > 0) throw new ValidationError(arrays.map((field) => ({ field, message: 'must be a JSON object' })));
    await next();
  });

const unknownParameters = (names: string[]) => new ValidationError(names.map((field) => ({ field, message: 'is not a known parameter' })));

/**
 * Validates one part of the request with a valibot schema and documents it in the OpenAPI
 * document. A failure throws ValidationError, which the error mapper turns into a problem
 * naming each bad field. A query parameter the schema does not name is refused, never ignored.
 * A body's `example` is shown in the document (the OpenAPI test checks it against the schema).
 */
export const validate = <Target extends keyof ValidationTargets, Schema extends StandardSchemaV1>(
  target: Target,
  schema: Schema,
  example?: unknown,
) => {
  const check = validator(
    target,
    schema,
    (result) => {
      if (!result.success) {
        throw new ValidationError(result.error.map((issue) => ({ field: fieldOf(issue), message: issue.message })));
      }
    },
    schemaOptions,
  );
  const entries = (schema as SchemaNode).entries;
  if (target === 'query' && entries && (schema as SchemaNode).type !== 'strict_object') {
    // One middleware still, carrying over the validator's OpenAPI description (a symbol-keyed property).
    return Object.assign(((c, next) => {
      const unknown = Object.keys(c.req.queries()).filter((name) => !(name in entries));
      if (unknown.length > 0) throw unknownParameters(unknown);
      return check(c, next);
    }) as typeof check, check);
  }
  if (target !== 'json') return check;
  const objects = requireObjects(schema);
  const checkBody = Object.assign(((c, next) => objects(c, () => check(c, next) as Promise<void>)) as typeof check, check);
  if (example === undefined) return checkBody;
  // Documented as a route description rather than by the validator, which has no place for an example.
  const documented = describeRoute({ requestBody: { required: true, content: { 'application/json': { schema: openApiSchema(schema), example } } } as never });
  return Object.assign(checkBody, { [uniqueSymbol]: (documented as unknown as Record<symbol, unknown>)[uniqueSymbol] });
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
