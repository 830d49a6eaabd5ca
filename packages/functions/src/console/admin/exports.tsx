import { Hono, type Context } from 'hono';
import { AUDIENCES, parseInput, ResponseFilterSchema, responsesCsv, toCsvStream } from '@rapport/core';
import type { Deps } from '../../deps';
import type { ConsoleEnv } from '../env';
import { Field, fieldAttrs, FormError, formErrors, formStatus, type FieldErrors } from '../form';
import { adminPage } from './page';

const FIELDS = ['since', 'until', 'audience'] as const;

function exportsPage(c: Context<ConsoleEnv>, values: Record<string, string> = {}, errors: FieldErrors = {}, status: 200 | 400 = 200) {
  return adminPage(
    c,
    'Exports',
    <>
      <p>
        The released responses as a CSV file, as the API’s <code>GET /v1/responses.csv</code> gives them: an anonymous round’s answers once it closed, in groups of
        at least the anonymity threshold, without names, ids or times; a named round’s answers as given. Columns are documented in{' '}
        <a href="/docs">the API reference</a>.
      </p>
      <form method="get" action="/app/admin/exports/responses.csv" class="card" novalidate>
        <FormError errors={errors} />
        <Field name="since" label="Released on or after (optional)" hint="A date, such as 2030-01-31." errors={errors}>
          <input type="date" {...fieldAttrs('since', errors, true)} value={values.since ?? ''} />
        </Field>
        <Field name="until" label="Released before (optional)" hint="A date: answers released that day are not included." errors={errors}>
          <input type="date" {...fieldAttrs('until', errors, true)} value={values.until ?? ''} />
        </Field>
        <Field name="audience" label="Audience" errors={errors}>
          <select {...fieldAttrs('audience', errors)}>
            <option value="">Every audience</option>
            {AUDIENCES.map((a) => (
              <option value={a} selected={a === values.audience}>
                {a}
              </option>
            ))}
          </select>
        </Field>
        <button type="submit">Download responses.csv</button>
      </form>
    </>,
    status,
  );
}

/** CSV exports: the API's responses CSV (same core export, filters and anonymity rules) for the signed-in admin. */
export const exportRoutes = ({ db }: Deps) =>
  new Hono<ConsoleEnv>()
    .get('/', (c) => exportsPage(c))
    .get('/responses.csv', async (c) => {
      // An empty field of the form is no filter.
      const values = Object.fromEntries(Object.entries(c.req.query()).filter(([, value]) => value !== ''));
      let records: Awaited<ReturnType<typeof responsesCsv>>;
      try {
        records = await responsesCsv(db, c.get('viewer').agencyId, parseInput(ResponseFilterSchema, values));
      } catch (error) {
        return exportsPage(c, values, formErrors(error, FIELDS), formStatus(error) as 400);
      }
      return c.body(toCsvStream(records), 200, {
        'Content-Type': 'text/csv; charset=utf-8; header=present',
        'Content-Disposition': 'attachment; filename="responses.csv"',
      });
    });
