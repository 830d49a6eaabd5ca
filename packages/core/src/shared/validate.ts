import * as v from 'valibot';
import { ValidationError, type FieldIssue } from './errors';

/** What a value of each type is called in a message. */
const TYPE_WORDS: Record<string, string> = { string: 'a string', number: 'a number', boolean: 'true or false', Object: 'an object', Array: 'a list' };

/**
 * The API's wording ("is required", "must be a string") for valibot's own messages about a key or
 * a type ("Invalid key: Expected \"name\" but received undefined"); a schema's own message stays.
 */
function worded(issue: v.BaseIssue<unknown>): string {
  if (issue.message.startsWith('Invalid key:')) return issue.expected === 'never' ? 'is not a known field' : 'is required';
  if (!issue.message.startsWith('Invalid type:')) return issue.message;
  if (issue.received === 'undefined') return 'is required';
  const choices = issue.expected?.match(/^\((".*")\)$/)?.[1];
  if (choices) return `must be one of ${choices.split(' | ').join(', ')}`;
  return `must be ${TYPE_WORDS[issue.expected ?? ''] ?? issue.expected}`;
}

/** Turns valibot issues into field issues with dotted paths ("" for the whole input). */
export function toFieldIssues(issues: readonly v.BaseIssue<unknown>[]): FieldIssue[] {
  return issues.map((issue) => ({
    field: issue.path?.map((p) => String(p.key)).join('.') || '(body)',
    message: worded(issue),
  }));
}

/** Parses input against a schema, throwing a ValidationError that names every bad field. */
export function parseInput<S extends v.GenericSchema>(schema: S, input: unknown): v.InferOutput<S> {
  const result = v.safeParse(schema, input, { abortPipeEarly: true });
  if (!result.success) throw new ValidationError(toFieldIssues(result.issues));
  return result.output;
}
