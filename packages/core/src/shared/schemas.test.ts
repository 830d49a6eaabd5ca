import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { toJsonSchema } from '@valibot/to-json-schema';
import { DateSchema, EmailSchema, maxChars, minChars, NameSchema, NOT_A_DAY } from './schemas';
import { AgencyInputSchema } from '../agency/agency';
import { SettingsPatchSchema } from '../agency/settings';
import { ApiKeyInputSchema } from '../apikey/apikey';
import { CampaignInputSchema } from '../campaign/campaign';
import { CommitmentInputSchema } from '../pro/commitment';
import { RecipientSchema } from '../survey/round';

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

  it('refuse a lone surrogate (half of a character, with no UTF-8 form), naming the field, and keep pairs', () => {
    for (const text of ['\ud800', 'a\udc00b', `${emoji.slice(0, 1)}x`]) {
      const result = v.safeParse(v.object({ name: NameSchema }), { name: text });
      expect(result.issues?.map((i) => [i.path?.[0]?.key, i.message])).toEqual([['name', 'must be valid Unicode text (it holds half of a character)']]);
    }
    expect(v.parse(NameSchema, `${emoji}${astral}`)).toBe(`${emoji}${astral}`);
  });

  it('are stated as maxLength and minLength in the JSON Schema', () => {
    expect(toJsonSchema(v.pipe(v.string(), minChars(1), maxChars(200)))).toEqual({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'string', minLength: 1, maxLength: 200 });
  });

  it('bound the value as sent, as maxLength in the document does: spaces that trimming drops still count (property)', () => {
    // Each bounded string of a request body, wrapped as the body holds it, with its maxLength.
    const bounded: [string, v.GenericSchema, (value: string) => unknown, number][] = [
      ['name', NameSchema, (x) => x, 200],
      ['email', EmailSchema, (x) => x, 254],
      ['agency name', AgencyInputSchema, (name) => ({ name }), 200],
      ['settings name', SettingsPatchSchema, (name) => ({ name }), 200],
      ['API key name', ApiKeyInputSchema, (name) => ({ role: 'read', name }), 100],
      ['campaign tag', CampaignInputSchema, (tag) => ({ proId: 'pro_01ARZ3NDEKTSV4RRFFQ69G5FAV', name: 'Launch', tags: [tag] }), 50],
      ['commitment', CommitmentInputSchema, (text) => ({ text }), 280],
      ['recipient name', RecipientSchema, (name) => ({ email: 'a@b.example', audience: 'reporter', name }), 200],
    ];
    const padding = fc.string({ unit: fc.constantFrom(' ', '\t', '\n', '\u00a0', '\u3000'), minLength: 1, maxLength: 4 });
    for (const [what, schema, wrap, max] of bounded) {
      fc.assert(
        fc.property(padding, padding, (before, after) => {
          const core = what === 'email' ? `${'a'.repeat(max - 10)}@b.example` : 'a'.repeat(max);
          const result = v.safeParse(schema, wrap(`${before}${core}${after}`));
          expect({ what, success: result.success }).toEqual({ what, success: false });
        }),
        { numRuns: 20 },
      );
    }
  });
});

describe('DateSchema', () => {
  it('takes days of the calendar and refuses others with one message each: not a day, or not the format', () => {
    const messages = (s: string) => v.safeParse(DateSchema, s).issues?.map((i) => i.message) ?? [];
    expect(messages('2032-02-29')).toEqual([]);
    expect(messages('2030-02-29')).toEqual([NOT_A_DAY]);
    expect(messages('2030-04-31')).toEqual([NOT_A_DAY]);
    expect(messages('2030-02-30x')).toEqual(['must be a date as YYYY-MM-DD']);
    expect(messages('yesterday')).toEqual(['must be a date as YYYY-MM-DD']);
  });
});
