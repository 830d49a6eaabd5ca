import * as v from 'valibot';
import { isId, type IdPrefix } from './ids';

/** Shared field schemas, so the same field is validated (and documented) the same way everywhere. */
export const NameSchema = v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(200, 'must be at most 200 characters'));

export const EmailSchema = v.pipe(
  v.string(),
  v.trim(),
  v.maxLength(254, 'must be at most 254 characters'),
  v.email('must be a valid email address'),
  v.metadata({ examples: ['jane@acme-pr.example'] }),
);

export const DateSchema = v.pipe(v.string(), v.isoDate('must be a date as YYYY-MM-DD'));

/**
 * A month as `YYYY-MM`, within years 2000–2999: no data is older, and a month's bounds stay
 * four-digit years (9999-12 would end in year 10000, which ISO strings write as `+010000`).
 */
export const MonthSchema = v.pipe(v.string(), v.regex(/^2\d{3}-(0[1-9]|1[0-2])$/, 'must be a month as YYYY-MM, from 2000-01 to 2999-12'));

/** An id of one kind in a filter: a malformed one is a 400 on its field; a well-formed one the agency lacks is a 404. */
export const idFilter = (prefix: IdPrefix, kind: string) => v.pipe(v.string(), v.check((s) => isId(prefix, s), `is not a ${kind} id`));
