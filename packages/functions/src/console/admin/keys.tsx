import { randomBytes } from 'node:crypto';
import { Hono, type Context } from 'hono';
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  createApiKey,
  fingerprint,
  getApiKey,
  listApiKeys,
  revokeApiKey,
  ROLES,
  unlockIdempotencyKey,
  type ApiKey,
} from '@rapport/core';
import type { Deps } from '../../deps';
import type { ConsoleEnv } from '../env';
import { CsrfField } from '../layout';
import { Isolated } from '../../pages/layout';
import { Done, Field, fieldAttrs, FormError, formErrors, formFields, formStatus, type FieldErrors } from '../form';
import { adminPage, when } from './page';

type C = Context<ConsoleEnv>;
const FIELDS = ['name', 'role'] as const;
const ROLE_WORDS: Record<(typeof ROLES)[number], string> = { admin: 'Admin: reads and changes everything', read: 'Read: reads only' };
const NOTICES = {
  revoked: 'The key is revoked: it stopped working at once.',
  once: 'That form was sent already: its key was created and its secret shown once, and it is not shown again. If it was lost, revoke that key and create another.',
};

/** A fresh token per create form: sending the same form twice (a reload of its answer) creates one key, and shows its secret once. */
const formToken = () => randomBytes(16).toString('base64url');

const keyName = (key: ApiKey) => (key.name ? <Isolated>{key.name}</Isolated> : <span class="muted">(no name)</span>);

async function keysPage(c: C, deps: Deps, form: { values: Record<string, string>; errors: FieldErrors } = { values: {}, errors: {} }, status: 200 | 400 | 409 = 200) {
  const cursor = c.req.query('cursor');
  const page = await listApiKeys(deps.db, c.get('viewer').agencyId, { limit: 50, cursor });
  return adminPage(
    c,
    'API keys',
    <>
      <Done c={c} notices={NOTICES} />
      <p>Keys let programs use Rapport’s API (see <a href="/docs">the API reference</a>). A key’s secret is shown once, when it is created.</p>
      {page.items.length === 0 ? (
        <p>No keys yet.</p>
      ) : (
        <div class="table-wrap">
          <table aria-label="The agency’s API keys">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Ends in</th>
                <th scope="col">Created</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((key) => (
                <tr>
                  <td>{keyName(key)}</td>
                  <td>{key.role}</td>
                  <td>
                    <code>…{key.hint}</code>
                  </td>
                  <td>{when(key.createdAt)}</td>
                  <td>{key.revokedAt ? `Revoked ${when(key.revokedAt)}` : <a href={`/app/admin/keys/${key.keyId}/revoke`} aria-label={`Revoke the key ${key.name || '(no name)'}, ending in ${key.hint}…`}>Revoke…</a>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {page.nextCursor && (
        <p class="pager">
          <a href={`/app/admin/keys?cursor=${encodeURIComponent(page.nextCursor)}`}>Next page</a>
        </p>
      )}
      <h2 id="create">Create a key</h2>
      <form method="post" action="/app/admin/keys" class="card" aria-labelledby="create">
        <CsrfField token={c.get('csrf')} />
        <input type="hidden" name="once" value={formToken()} />
        <FormError errors={form.errors} />
        <Field name="name" label="Name" hint="What the key is for, such as “CRM sync”." errors={form.errors}>
          <input type="text" {...fieldAttrs('name', form.errors, true)} value={form.values.name ?? ''} autocomplete="off" />
        </Field>
        <Field name="role" label="Role" errors={form.errors}>
          <select {...fieldAttrs('role', form.errors)}>
            {ROLES.map((role) => (
              <option value={role} selected={role === (form.values.role ?? 'read')}>
                {ROLE_WORDS[role]}
              </option>
            ))}
          </select>
        </Field>
        <button type="submit">Create the key</button>
      </form>
    </>,
    status,
  );
}

/**
 * API keys: list, create, revoke. The secret is in the answer to the creating POST only (the
 * console's pages are never cached): not stored, not carried through a redirect, and a second send
 * of the same form (a reload) finds its token used and shows no secret.
 */
export const keysRoutes = (deps: Deps) => {
  const { db, now } = deps;
  return new Hono<ConsoleEnv>()
    .get('/', (c) => keysPage(c, deps))
    .post('/', async (c) => {
      const { agencyId } = c.get('viewer');
      const { once = '', ...form } = await formFields(c);
      const values = { name: form.name ?? '', role: form.role ?? '' };
      if (!/^[A-Za-z0-9_-]{22}$/.test(once)) return keysPage(c, deps, { values, errors: { '': 'This form is out of date: please send it again.' } }, 400);
      const token = `console:api-key:${once}`;
      const claim = await claimIdempotencyKey(db, agencyId, token, fingerprint('console:api-key', once), now());
      if (claim.outcome !== 'claimed') return c.redirect('/app/admin/keys?done=once', 303);
      let created: Awaited<ReturnType<typeof createApiKey>>;
      try {
        created = await createApiKey(db, agencyId, values, now());
      } catch (error) {
        await unlockIdempotencyKey(db, agencyId, token);
        return keysPage(c, deps, { values, errors: formErrors(error, FIELDS) }, formStatus(error));
      }
      await completeIdempotencyKey(db, agencyId, token, { status: 201, body: JSON.stringify({ keyId: created.apiKey.keyId }), contentType: 'application/json' });
      return adminPage(
        c,
        'Your new API key',
        <>
          <p class="notice" role="status">
            The key <strong>{keyName(created.apiKey)}</strong> ({created.apiKey.role}) is created. Copy it now: it is shown only this once and Rapport does not store it.
          </p>
          <p>
            <label for="secret">The key</label>
          </p>
          <p>
            <textarea id="secret" class="secret" rows={2} readonly>
              {created.secret}
            </textarea>
          </p>
          <p>
            Send it as <code>Authorization: Bearer &lt;key&gt;</code>. If it is lost, revoke it and create another.
          </p>
          <p>
            <a href="/app/admin/keys">Back to the API keys</a>
          </p>
        </>,
        201,
      );
    })
    .get('/:keyId/revoke', async (c) => {
      const key = await getApiKey(db, c.get('viewer').agencyId, c.req.param('keyId'));
      return adminPage(
        c,
        'Revoke an API key',
        key.revokedAt ? (
          <p>This key was revoked {when(key.revokedAt)}.</p>
        ) : (
          <form method="post" action={`/app/admin/keys/${key.keyId}/revoke`} class="card">
            <CsrfField token={c.get('csrf')} />
            <p>
              Revoke the key <strong>{keyName(key)}</strong> ({key.role}, ending in <code>{key.hint}</code>)? Programs using it stop working at once. This cannot be undone.
            </p>
            <button type="submit" class="danger">
              Revoke the key
            </button>{' '}
            <a href="/app/admin/keys">Keep it</a>
          </form>
        ),
      );
    })
    .post('/:keyId/revoke', async (c) => {
      await revokeApiKey(db, c.get('viewer').agencyId, c.req.param('keyId'), now());
      return c.redirect('/app/admin/keys?done=revoked', 303);
    });
};
