import { Hono } from 'hono';
import * as v from 'valibot';
import { addSuppression, EmailSchema, liftSuppression, listSuppressions, SuppressionInputSchema, type ListedSuppression } from '@rapport/core';
import type { Deps } from '../../deps';
import type { ApiEnv } from '../env';
import { requireRole } from '../auth';
import { idempotent } from '../idempotency';
import { validate } from '../validate';
import { doc } from '../route-docs';
import { named, PageQuery, Timestamp, pageBody, pageOf } from '../schemas';
import { pageExample, suppressionExample, suppressionInputExample } from '../examples';

const tags = ['Suppressions'];

const SuppressionOut = named('Suppression', v.object({
  email: v.string(),
  reason: v.pipe(v.picklist(['bounced', 'complained', 'unsubscribed']), v.description('`unsubscribed` from the agency’s surveys (by its link, or added here), or from all (`scope: global`).')),
  scope: v.pipe(v.picklist(['agency', 'global']), v.description('`agency`: this agency’s surveys only, and it may lift it; `global`: every agency’s, for good (a bounce, a complaint, "stop all").')),
  at: Timestamp,
  addedBy: v.pipe(v.nullable(v.string()), v.description('The API key id or console member who added it by hand; null when the recipient or the mail service did.')),
}));

const present = (s: ListedSuppression) => ({ email: s.email, reason: s.reason, scope: s.scope, at: s.at, addedBy: s.addedBy ?? null });

/** The agency's suppressions (DESIGN-NOTES "Data rights"): the console's admin page calls the same core functions. */
export const suppressionRoutes = ({ db, now }: Deps) =>
  new Hono<ApiEnv>()
    .get(
      '/',
      doc({
        summary: 'List suppressions',
        description: 'The addresses the agency’s rounds skip, by address: its own unsubscribes, and the bounces, complaints and "stop all" unsubscribes its surveys led to. Addresses of other agencies’ suppressions are never listed. An erased address is not listed (see `POST /v1/erasures`).',
        tags,
        role: 'read',
        ok: [200, pageOf(SuppressionOut), 'A page of suppressions, by address'],
        example: pageExample(suppressionExample),
        problems: ['validation'],
      }),
      validate('query', PageQuery),
      async (c) => c.json(pageBody(await listSuppressions(db, c.get('principal').agencyId, c.req.valid('query')), present)),
    )
    .post(
      '/',
      requireRole('admin'),
      doc({
        summary: 'Suppress an address',
        description: 'The agency’s rounds skip the address from now on (as `unsubscribed`). 201 when new; 200 with the suppression as first recorded when the address was suppressed already.',
        tags,
        role: 'admin',
        idempotent: true,
        ok: [201, SuppressionOut, 'The suppression'],
        example: suppressionExample,
        problems: ['validation', 'idempotency-in-progress', 'idempotency-key-reused'],
      }),
      idempotent(db, now),
      validate('json', named('SuppressionInput', SuppressionInputSchema), suppressionInputExample),
      async (c) => {
        const { agencyId, keyId } = c.get('principal');
        const { suppression, created } = await addSuppression(db, agencyId, c.req.valid('json'), keyId, now());
        return c.json(present(suppression), created ? 201 : 200);
      },
    )
    .delete(
      '/:email',
      requireRole('admin'),
      doc({
        summary: 'Lift a suppression',
        description:
          'Lifts the agency’s own unsubscribe of an address (made in error, or the person asked to be surveyed again). The address goes in the path, URL-encoded (`/v1/suppressions/jane%40example.com`). A bounce, a complaint or a "stop all" holds for every agency, and an erasure for good: 409. An address the agency has not suppressed: 404.',
        tags,
        role: 'admin',
        ok: [204, null, 'Lifted'],
        problems: ['validation', 'not-found', 'conflict'],
      }),
      validate('param', v.object({ email: v.pipe(EmailSchema, v.description('The suppressed address, URL-encoded (`jane%40example.com`).')) })),
      async (c) => {
        await liftSuppression(db, c.get('principal').agencyId, c.req.valid('param').email);
        return c.body(null, 204);
      },
    );
