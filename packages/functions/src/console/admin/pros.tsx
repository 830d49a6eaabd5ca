import { Hono, type Context } from 'hono';
import { createPro, deactivatePro, FORMER_PRO_NAME, getPro, listPros, reactivatePro, updatePro, type Pro } from '@rapport/core';
import type { Deps } from '../../deps';
import type { ConsoleEnv } from '../env';
import { CsrfField } from '../layout';
import { Isolated } from '../../pages/layout';
import { Done, Field, fieldAttrs, FormError, formErrors, formFields, formStatus, type FieldErrors } from '../form';
import { adminPage, when } from './page';

const FIELDS = ['name', 'email'] as const;
const PAGE_SIZE = 25;
type Values = Partial<Record<(typeof FIELDS)[number], string>>;
type C = Context<ConsoleEnv>;

const ProFields = ({ values, errors }: { values: Values; errors: FieldErrors }) => (
  <>
    <Field name="name" label="Name" errors={errors}>
      <input type="text" {...fieldAttrs('name', errors)} value={values.name ?? ''} autocomplete="off" required />
    </Field>
    <Field name="email" label="Email" hint="The pro signs in with it; unique within the agency." errors={errors}>
      <input type="email" {...fieldAttrs('email', errors, true)} value={values.email ?? ''} autocomplete="off" required />
    </Field>
  </>
);

const status = (pro: Pro) => (pro.deactivatedAt ? `Deactivated ${when(pro.deactivatedAt)}` : 'Active');

async function listPage(c: C, deps: Deps, form: { values: Values; errors: FieldErrors } = { values: {}, errors: {} }, code: 200 | 400 | 409 = 200) {
  const cursor = c.req.query('cursor');
  const page = await listPros(deps.db, c.get('viewer').agencyId, { limit: PAGE_SIZE, cursor });
  return adminPage(
    c,
    'Pros',
    <>
      {page.items.length === 0 ? (
        <p>No pros yet.</p>
      ) : (
        <div class="table-wrap">
          <table aria-label="The agency’s pros">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((pro) => (
                <tr>
                  <td>
                    <a href={`/app/admin/pros/${pro.proId}`}>
                      <Isolated>{pro.name}</Isolated>
                    </a>
                  </td>
                  <td>
                    <Isolated>{pro.email}</Isolated>
                  </td>
                  <td>{status(pro)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {(cursor || page.nextCursor) && (
        <p class="pager">
          {cursor && <a href="/app/admin/pros">First page</a>}
          {page.nextCursor && <a href={`/app/admin/pros?cursor=${encodeURIComponent(page.nextCursor)}`}>Next page</a>}
        </p>
      )}
      <h2 id="add">Add a pro</h2>
      <form method="post" action="/app/admin/pros" class="card" aria-labelledby="add">
        <CsrfField token={c.get('csrf')} />
        <FormError errors={form.errors} />
        <ProFields values={form.values} errors={form.errors} />
        <button type="submit">Add the pro</button>
      </form>
    </>,
    code,
  );
}

const NOTICES = {
  added: 'The pro was added. They can sign in with their email.',
  saved: 'Saved.',
  moved: 'Saved. The pro is signed out: they sign in again with the new email.',
  deactivated: 'The pro is deactivated and signed out everywhere.',
  reactivated: 'The pro is active again.',
};

function proPage(c: C, pro: Pro, form: { values: Values; errors: FieldErrors } = { values: pro, errors: {} }, code: 200 | 400 | 409 = 200) {
  const csrf = c.get('csrf');
  const base = `/app/admin/pros/${pro.proId}`;
  return adminPage(
    c,
    'Pro',
    <>
      <Done c={c} notices={NOTICES} />
      <p>
        <a href="/app/admin/pros">All pros</a>
      </p>
      {pro.erasedAt ? (
        // Nothing to edit or reactivate: either would write a person back onto the erased record (409).
        <p class="card">
          This pro’s personal data was erased on {when(pro.erasedAt)}. Their scores stay, under “{FORMER_PRO_NAME}”. To work with them again, add them as a
          new pro.
        </p>
      ) : (
        <>
          <h2 id="edit">Name and email</h2>
          <form method="post" action={base} class="card" aria-labelledby="edit">
            <CsrfField token={csrf} />
            <FormError errors={form.errors} />
            <ProFields values={form.values} errors={form.errors} />
            <button type="submit">Save</button>
          </form>
          <h2 id="status">Status: {status(pro)}</h2>
        </>
      )}
      {pro.erasedAt ? null : pro.deactivatedAt ? (
        <form method="post" action={`${base}/reactivate`} class="card" aria-labelledby="status">
          <CsrfField token={csrf} />
          <p>Reactivated, the pro can sign in again, gets new rounds and their summaries.</p>
          <button type="submit" class="secondary">
            Reactivate
          </button>
        </form>
      ) : (
        <form method="post" action={`${base}/deactivate`} class="card" aria-labelledby="status">
          <CsrfField token={csrf} />
          <p>
            For someone who left the agency. They are signed out at once and cannot sign in; no new rounds can be sent for them, and they get no
            summaries or early warnings. Rounds already sent run to their close; their scores and responses stay. You can reactivate them later.
          </p>
          <button type="submit" class="danger">
            Deactivate
          </button>
        </form>
      )}
    </>,
    code,
    <>
      Pro: <Isolated>{pro.name}</Isolated>
    </>,
  );
}

const valuesOf = (form: Record<string, string>): Values => ({ name: form.name ?? '', email: form.email ?? '' });

/** Pros: list, add, edit, deactivate and reactivate, with the core functions the API uses. */
export const prosRoutes = (deps: Deps) => {
  const { db, now } = deps;
  const agencyOf = (c: C) => c.get('viewer').agencyId;
  return new Hono<ConsoleEnv>()
    .get('/', (c) => listPage(c, deps))
    .post('/', async (c) => {
      const values = valuesOf(await formFields(c));
      try {
        const pro = await createPro(db, agencyOf(c), values, now());
        return c.redirect(`/app/admin/pros/${pro.proId}?done=added`, 303);
      } catch (error) {
        return listPage(c, deps, { values, errors: formErrors(error, FIELDS) }, formStatus(error));
      }
    })
    .get('/:proId', async (c) => proPage(c, await getPro(db, agencyOf(c), c.req.param('proId'))))
    .post('/:proId', async (c) => {
      const pro = await getPro(db, agencyOf(c), c.req.param('proId'));
      const values = valuesOf(await formFields(c));
      try {
        const next = await updatePro(db, agencyOf(c), pro.proId, values, now());
        // A new address (not a change of case) ends the pro's sessions (`updatePro`): the admin is told.
        const done = next.email.toLowerCase() === pro.email.toLowerCase() ? 'saved' : 'moved';
        return c.redirect(`/app/admin/pros/${pro.proId}?done=${done}`, 303);
      } catch (error) {
        return proPage(c, pro, { values, errors: formErrors(error, FIELDS) }, formStatus(error));
      }
    })
    .post('/:proId/deactivate', async (c) => {
      const pro = await deactivatePro(db, agencyOf(c), c.req.param('proId'), now());
      return c.redirect(`/app/admin/pros/${pro.proId}?done=deactivated`, 303);
    })
    .post('/:proId/reactivate', async (c) => {
      const pro = await reactivatePro(db, agencyOf(c), c.req.param('proId'), now());
      return c.redirect(`/app/admin/pros/${pro.proId}?done=reactivated`, 303);
    });
};
