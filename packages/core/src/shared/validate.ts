import * as v from 'valibot';
import { ValidationError, type FieldIssue } from './errors';

/** Turns valibot issues into field issues with dotted paths ("" for the whole input). */
export function toFieldIssues(issues: readonly v.BaseIssue<unknown>[]): FieldIssue[] {
  return issues.map((issue) => ({
    field: issue.path?.map((p) => String(p.key)).join('.') || '(body)',
    message: issue.message,
  }));
}

/** Parses input against a schema, throwing a ValidationError that names every bad field. */
export function parseInput<S extends v.GenericSchema>(schema: S, input: unknown): v.InferOutput<S> {
  const result = v.safeParse(schema, input, { abortPipeEarly: true });
  if (!result.success) throw new ValidationError(toFieldIssues(result.issues));
  return result.output;
}
