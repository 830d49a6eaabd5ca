import type { ValidationTargets } from 'hono';
import { validator } from 'hono-openapi';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { ValidationError } from '@rapport/core';

const fieldOf = (issue: StandardSchemaV1.Issue): string =>
  issue.path?.map((segment) => String(typeof segment === 'object' ? segment.key : segment)).join('.') || '(body)';

/**
 * Validates one part of the request with a valibot schema and documents it in the OpenAPI
 * document. A failure throws ValidationError, which the error mapper turns into a problem
 * naming each bad field.
 */
export const validate = <Target extends keyof ValidationTargets, Schema extends StandardSchemaV1>(
  target: Target,
  schema: Schema,
) =>
  validator(target, schema, (result) => {
    if (!result.success) {
      throw new ValidationError(result.error.map((issue) => ({ field: fieldOf(issue), message: issue.message })));
    }
  });
