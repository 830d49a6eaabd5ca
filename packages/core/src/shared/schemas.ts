import * as v from 'valibot';

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
