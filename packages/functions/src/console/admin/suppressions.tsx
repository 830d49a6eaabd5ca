import { Hono, type Context } from 'hono';
import { addSuppression, liftSuppression, listSuppressions, type ListedSuppression } from '@rapport/core';
import type { Deps } from '../../deps';
import type { ConsoleEnv } from '../env';
import { CsrfField } from '../layout';
import { Isolated } from '../../pages/layout';
import { Done, Field, fieldAttrs, FormError, formErrors, formFields, formStatus, type FieldErrors } from '../form';
import { adminPage, when } from './page';

type C = Context<ConsoleEnv>;
const NOTICES = {
  added: 'The address is suppressed: the agency’s rounds skip it.',
  lifted: 'The unsubscribe is lifted: the address may be surveyed again.',
};

const why = (s: ListedSuppression) =>
  s.addedBy
    ? 'Added by an admin'
    : s.reason === 'bounced'
      ? 'Bounced (the address does not exist or refuses mail)'
      : s.reason === 'complained'
        ? 'Marked a survey as spam'
        : s.scope === 'global'
          ? 'Unsubscribed from all Rapport surveys'
          : 'Unsubscribed from the agency’s surveys';

async function suppressionsPage(c: C, deps: Deps, form: { email: string; errors: FieldErrors } = { email: '', errors: {} }, status: 200 | 400 | 409 = 200) {
  const cursor = c.req.query('cursor');
  const page = await listSuppressions(deps.db, c.get('viewer').agencyId, { limit: 50, cursor });
  return adminPage(
    c,
    'Suppressions',
    <>
      <Done c={c} notices={NOTICES} />
      <p>
        Addresses the agency’s rounds skip: those who unsubscribed from its surveys, and those whose address bounced, who marked one of its surveys as
        spam, or who stopped all Rapport surveys. Only the agency’s own unsubscribes can be lifted here.
      </p>
      {page.items.length === 0 ? (
        <p>No suppressed addresses.</p>
      ) : (
        <div class="table-wrap">
          <table aria-label="Suppressed addresses">
            <thead>
              <tr>
                <th scope="col">Address</th>
                <th scope="col">Why</th>
                <th scope="col">Since</th>
                <th scope="col">Lift</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((s) => (
                <tr>
                  <td>
                    <Isolated>{s.email}</Isolated>
                  </td>
                  <td>{why(s)}</td>
                  <td>{when(s.at)}</td>
                  <td>
                    {s.scope === 'agency' ? (
                      <a href={`/app/admin/suppressions/lift?email=${encodeURIComponent(s.email)}`} aria-label={`Lift for ${s.email}`}>
                        Lift…
                      </a>
                    ) : (
                      <span class="muted">For every agency</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {page.nextCursor && (
        <p class="pager">
          <a href={`/app/admin/suppressions?cursor=${encodeURIComponent(page.nextCursor)}`}>Next page</a>
        </p>
      )}
      <h2 id="add">Suppress an address</h2>
      <form method="post" action="/app/admin/suppressions" class="card" aria-labelledby="add">
        <CsrfField token={c.get('csrf')} />
        <FormError errors={form.errors} />
        <Field name="email" label="Email" hint="Someone who asked, by other means, not to be surveyed by the agency." errors={form.errors}>
          <input type="email" {...fieldAttrs('email', form.errors, true)} value={form.email} autocomplete="off" required />
        </Field>
        <button type="submit">Suppress</button>
      </form>
    </>,
    status,
  );
}

/** Suppressions: the agency's list, adding an address, lifting an agency unsubscribe (core functions the API will share). */
export const suppressionRoutes = (deps: Deps) => {
  const { db, now } = deps;
  return new Hono<ConsoleEnv>()
    .get('/', (c) => suppressionsPage(c, deps))
    .post('/', async (c) => {
      const viewer = c.get('viewer');
      const email = (await formFields(c)).email ?? '';
      try {
        await addSuppression(db, viewer.agencyId, { email }, viewer.kind === 'member' ? viewer.memberId : viewer.proId, now());
        return c.redirect('/app/admin/suppressions?done=added', 303);
      } catch (error) {
        return suppressionsPage(c, deps, { email, errors: formErrors(error, ['email']) }, formStatus(error));
      }
    })
    .get('/lift', (c) => {
      const email = c.req.query('email') ?? '';
      return adminPage(
        c,
        'Lift an unsubscribe',
        <form method="post" action="/app/admin/suppressions/lift" class="card">
          <CsrfField token={c.get('csrf')} />
          <input type="hidden" name="email" value={email} />
          <p>
            Survey <strong><Isolated>{email}</Isolated></strong> again? Do this only if they asked to be: they told the agency to stop.
          </p>
          <button type="submit" class="danger">
            Lift the unsubscribe
          </button>{' '}
          <a href="/app/admin/suppressions">Keep it</a>
        </form>,
      );
    })
    .post('/lift', async (c) => {
      await liftSuppression(db, c.get('viewer').agencyId, (await formFields(c)).email ?? '');
      return c.redirect('/app/admin/suppressions?done=lifted', 303);
    });
};
