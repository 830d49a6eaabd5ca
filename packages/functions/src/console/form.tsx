import type { Child } from 'hono/jsx';
import type { Context } from 'hono';
import { ConflictError, ValidationError } from '@rapport/core';

/** A form's errors by field name ('' for the form as a whole). */
export type FieldErrors = Record<string, string>;

/** The `aria-` attributes of a control `id` with its hint and error: the error is announced with the field. */
export const ariaFor = (id: string, hint: boolean, error: string | undefined) => ({
  'aria-invalid': error ? ('true' as const) : undefined,
  'aria-describedby': [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined,
});

/** Every console field: the label, an optional hint, the control, and its error right under it. */
export const FieldBox = ({ id, label, hint, error, children }: { id: string; label: string; hint?: string | undefined; error?: string | undefined; children: Child }) => (
  <div class="field">
    <label for={id}>{label}</label>
    {hint && (
      <p class="hint" id={`${id}-hint`}>
        {hint}
      </p>
    )}
    {children}
    {error && (
      <p class="error" id={`${id}-error`}>
        {error}
      </p>
    )}
  </div>
);

/** A text input with its label, hint and error. */
export const TextField = (p: { name: string; label: string; value?: string; error?: string; hint?: string; type?: string; autocomplete?: string; required?: boolean }) => (
  <FieldBox id={p.name} label={p.label} hint={p.hint} error={p.error}>
    <input type={p.type ?? 'text'} id={p.name} name={p.name} value={p.value ?? ''} autocomplete={p.autocomplete} required={p.required} {...ariaFor(p.name, Boolean(p.hint), p.error)} />
  </FieldBox>
);

const idOf = (name: string) => `f-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;

/** The attributes of the control of field `name`, for forms that keep their errors by field name. */
export const fieldAttrs = (name: string, errors: FieldErrors, hint = false) => ({ id: idOf(name), name, ...ariaFor(idOf(name), hint, errors[name]) });

/** A `FieldBox` for field `name` of a form that keeps its errors by field name. */
export const Field = ({ name, label, hint, errors, children }: { name: string; label: string; hint?: string; errors: FieldErrors; children: Child }) => (
  <FieldBox id={idOf(name)} label={label} hint={hint} error={errors[name]}>
    {children}
  </FieldBox>
);

/** The form-wide error, if any (a conflict not tied to a field). */
export const FormError = ({ errors }: { errors: FieldErrors }) =>
  errors[''] ? (
    <p class="notice bad" role="alert">
      {errors['']}
    </p>
  ) : null;

/** A notice after a successful POST (the 303 names it by a fixed key; the text is the page's own). */
export const Done = ({ c, notices }: { c: Context; notices: Record<string, string> }) => {
  const text = notices[c.req.query('done') ?? ''];
  return text ? (
    <p class="notice" role="status">
      {text}
    </p>
  ) : null;
};

/**
 * A domain error as the errors of a form whose fields are `fields`: a validation issue goes to the
 * field it names (or that names an item of it, `summary.adminEmails.2`), a conflict to its field or
 * the whole form. Any other error is not the form's: it is rethrown, for the error page.
 */
export function formErrors(error: unknown, fields: readonly string[]): FieldErrors {
  const fieldOf = (path: string) => fields.filter((f) => path === f || path.startsWith(`${f}.`)).sort((a, b) => b.length - a.length)[0] ?? '';
  if (error instanceof ValidationError) {
    const errors: FieldErrors = {};
    for (const issue of error.issues) {
      const field = fieldOf(issue.field);
      errors[field] ??= field ? issue.message : `${issue.field}: ${issue.message}`;
    }
    return errors;
  }
  if (error instanceof ConflictError) return { [error.field && fields.includes(error.field) ? error.field : '']: error.message };
  throw error;
}

/** 409 for a conflict, 400 for anything else a form shows next to its fields. */
export const formStatus = (error: unknown) => (error instanceof ConflictError ? 409 : 400);

/**
 * A form's text fields (a file or a repeated field is not one of ours). A body that is not the form
 * it claims to be (malformed multipart) has none: the form's page says what is missing, not a 500.
 */
export async function formFields(c: Context): Promise<Record<string, string>> {
  const body = await c.req.parseBody().catch(() => ({}));
  return Object.fromEntries(Object.entries(body).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
