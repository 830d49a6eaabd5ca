import { describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { toJsonSchema } from '@valibot/to-json-schema';
import { maxChars, minChars, NameSchema } from './schemas';

const emoji = '😀';
const astral = '𝒜';

describe('string lengths', () => {
  it('count code points, as JSON Schema does: an emoji or an astral letter is one character', () => {
    expect(v.parse(NameSchema, emoji.repeat(150))).toBe(emoji.repeat(150));
    expect(v.parse(NameSchema, astral.repeat(200))).toBe(astral.repeat(200));
    expect(v.parse(NameSchema, `${emoji.repeat(100)}${'a'.repeat(100)}`)).toHaveLength(300);
    const over = v.safeParse(NameSchema, astral.repeat(201));
    expect(over.success).toBe(false);
    expect(over.issues?.map((i) => i.message)).toEqual(['must be at most 200 characters']);
    expect(v.safeParse(NameSchema, '   ').issues?.map((i) => i.message)).toEqual(['must not be empty']);
    // A lone surrogate is one code point too.
    expect(v.safeParse(v.pipe(v.string(), minChars(2)), '\ud800').issues?.map((i) => i.message)).toEqual(['must be at least 2 characters']);
  });

  it('are stated as maxLength and minLength in the JSON Schema', () => {
    expect(toJsonSchema(v.pipe(v.string(), minChars(1), maxChars(200)))).toEqual({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'string', minLength: 1, maxLength: 200 });
  });
});
