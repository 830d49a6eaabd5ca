import * as v from 'valibot';

/**
 * A string's length bounds, counted in code points: the unit of JSON Schema's `maxLength` and
 * `minLength`, which the OpenAPI document states (valibot's `maxLength` counts UTF-16 units, so an
 * emoji would count twice). They are valibot's code-point actions under the length actions' types,
 * so the document generator states them as `maxLength` and `minLength`. Every string bound uses them.
 */
export const maxChars = <T extends string>(max: number, message = `must be at most ${max} characters`) => ({ ...v.maxCodePoints<T, number, string>(max, message), type: 'max_length' as const });
export const minChars = <T extends string>(min: number, message = `must be at least ${min} characters`) => ({ ...v.minCodePoints<T, number, string>(min, message), type: 'min_length' as const });

/** Shared field schemas, so the same field is validated (and documented) the same way everywhere. */
export const NameSchema = v.pipe(v.string(), v.trim(), minChars(1, 'must not be empty'), maxChars(200));

export const EmailSchema = v.pipe(
  v.string(),
  v.trim(),
  maxChars(254),
  v.email('must be a valid email address'),
  v.metadata({ examples: ['jane@acme-pr.example'] }),
);

export const DateSchema = v.pipe(v.string(), v.isoDate('must be a date as YYYY-MM-DD'));
