import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors';
import { parseInput } from './validate';

const Schema = v.object({
  name: v.string(),
  count: v.number(),
  tags: v.array(v.string()),
  on: v.boolean(),
  audience: v.picklist(['reporter', 'client']),
  kind: v.picklist(['a', 'b'], 'must be a or b'),
  nested: v.optional(v.strictObject({ a: v.string() })),
});

const issuesOf = (input: unknown) => {
  try {
    parseInput(Schema, input);
  } catch (error) {
    return (error as ValidationError).issues;
  }
  throw new Error('parsed');
};

describe('parseInput', () => {
  it("names each bad field in the API's words, not valibot's, and keeps a schema's own message", () => {
    expect(issuesOf({ count: '1', tags: 'x', on: 'true', audience: 'pr', kind: 'c', nested: { a: 'q', extra: 1 } })).toEqual([
      { field: 'name', message: 'is required' },
      { field: 'count', message: 'must be a number' },
      { field: 'tags', message: 'must be a list' },
      { field: 'on', message: 'must be true or false' },
      { field: 'audience', message: 'must be one of "reporter", "client"' },
      { field: 'kind', message: 'must be a or b' },
      { field: 'nested.extra', message: 'is not a known field' },
    ]);
    expect(issuesOf({ name: 5, count: 1, tags: [], on: true, audience: 'client', kind: 'a', nested: 'x' })).toEqual([
      { field: 'name', message: 'must be a string' },
      { field: 'nested', message: 'must be an object' },
    ]);
  });
});
