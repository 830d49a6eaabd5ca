import type { ValidationTargets } from 'hono';
import { createMiddleware } from 'hono/factory';
import { sValidator } from '@hono/standard-validator';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { BaseIssue } from 'valibot';
import { ValidationError } from '@rapport/core/shared/errors';
import { toFieldIssues } from '@rapport/core/shared/validate';

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

export const unknownParameters = (names: string[]) => new ValidationError(names.map((field) => ({ field, message: 'is not a known parameter' })));

/**
 * Throws the failures of a validation as one ValidationError, which the error mapper turns into a
 * problem naming each bad field. The schemas are valibot's, whose standard issues are its own: they
 * are worded as the domain's are (`toFieldIssues`), in one voice.
 */
export const validationHook = (result: { success: true } | { success: false; error: readonly StandardSchemaV1.Issue[] }) => {
  if (!result.success) throw new ValidationError(toFieldIssues(result.error as readonly BaseIssue<unknown>[]));
};

/**
 * Validates one part of the request with a valibot schema: a failure throws ValidationError. A
 * query parameter the schema does not name is refused, never ignored; a JSON body must be an
 * object. What the streaming export runs (`export-app.ts`); the API's routes use `validate`,
 * which is this and its description in the OpenAPI document.
 */
export const check = <Target extends keyof ValidationTargets, Schema extends StandardSchemaV1>(target: Target, schema: Schema) => {
  const checkPart = sValidator(target, schema, validationHook);
  const entries = (schema as SchemaNode).entries;
  if (target === 'query' && entries && (schema as SchemaNode).type !== 'strict_object') {
    return Object.assign(((c, next) => {
      const unknown = Object.keys(c.req.queries()).filter((name) => !(name in entries));
      if (unknown.length > 0) throw unknownParameters(unknown);
      return checkPart(c, next);
    }) as typeof checkPart, checkPart);
  }
  if (target !== 'json') return checkPart;
  const objects = requireObjects(schema);
  return Object.assign(((c, next) => objects(c, () => checkPart(c, next) as Promise<void>)) as typeof checkPart, checkPart);
};
