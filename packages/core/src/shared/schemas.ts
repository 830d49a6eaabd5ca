import * as v from 'valibot';
import { isId, type IdPrefix } from './ids';

/**
 * A string's length bounds, counted in code points: the unit of JSON Schema's `maxLength` and
 * `minLength`, which the OpenAPI document states (valibot's `maxLength` counts UTF-16 units, so an
 * emoji would count twice). They are valibot's code-point actions under the length actions' types,
 * so the document generator states them as `maxLength` and `minLength`. Every string bound uses them.
 * `maxChars` goes before `v.trim()`: the document's `maxLength` bounds the value as sent, spaces
 * included; `minChars` after it, so a blank value is refused though its raw length passes.
 */
export const maxChars = <T extends string>(max: number, message = `must be at most ${max} characters`) => {
  const action = { ...v.maxCodePoints<T, number, string>(max, message), type: 'max_length' as const };
  return {
    ...action,
    // Also refuses a lone surrogate: it has no UTF-8 form, so the SDK would store U+FFFD instead.
    '~run'(dataset: Parameters<typeof action['~run']>[0], config: Parameters<typeof action['~run']>[1]) {
      if (dataset.typed && LONE_SURROGATE.test(dataset.value)) {
        v._addIssue(action, 'characters', dataset, config, { message: 'must be valid Unicode text (it holds half of a character)', received: 'a lone surrogate' });
        return dataset;
      }
      return action['~run'](dataset, config);
    },
  };
};

const LONE_SURROGATE = /\p{Cs}/u;
export const minChars = <T extends string>(min: number, message = `must be at least ${min} characters`) => ({ ...v.minCodePoints<T, number, string>(min, message), type: 'min_length' as const });

/** Shared field schemas, so the same field is validated (and documented) the same way everywhere. */
export const NameSchema = v.pipe(v.string(), maxChars(200), v.trim(), minChars(1, 'must not be empty'));

export const EmailSchema = v.pipe(
  v.string(),
  maxChars(254),
  v.trim(),
  v.email('must be a valid email address'),
  v.metadata({ examples: ['jane@acme-pr.example'] }),
);

/**
 * Whether the `YYYY-MM-DD` a string starts with is a day of the calendar: the format checks let
 * 2030-02-30 through, and `Date` reads it as 2 March. A string of another form passes here: its
 * format check refuses it, with one message.
 */
export const isCalendarDay = (s: string) => {
  const day = /^(\d{4}-\d{2}-\d{2})(T|$)/.exec(s)?.[1];
  if (day === undefined) return true;
  const at = new Date(`${day}T00:00:00Z`);
  return Number.isNaN(at.getTime()) || at.toISOString().slice(0, 10) === day;
};
export const NOT_A_DAY = 'is not a day of the calendar';

export const DateSchema = v.pipe(v.string(), v.isoDate('must be a date as YYYY-MM-DD'), v.check(isCalendarDay, NOT_A_DAY));

/**
 * A month as `YYYY-MM`, within years 2000–2999: no data is older, and a month's bounds stay
 * four-digit years (9999-12 would end in year 10000, which ISO strings write as `+010000`).
 */
export const MonthSchema = v.pipe(v.string(), v.regex(/^2\d{3}-(0[1-9]|1[0-2])$/, 'must be a month as YYYY-MM, from 2000-01 to 2999-12'));

/** An id of one kind in a filter: a malformed one is a 400 on its field; a well-formed one the agency lacks is a 404. */
export const idFilter = (prefix: IdPrefix, kind: string) => v.pipe(v.string(), v.check((s) => isId(prefix, s), `is not a ${kind} id`));
