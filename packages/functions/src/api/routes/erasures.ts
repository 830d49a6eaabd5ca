import { Hono } from 'hono';
import * as v from 'valibot';
import { eraseAddress, ErasureInputSchema, getErasure, listErasures } from '@rapport/core';
import type { Deps } from '../../deps';
import type { ApiEnv } from '../env';
import { requireRole } from '../auth';
import { idempotent } from '../idempotency';
import { validate } from '../validate';
import { doc } from '../route-docs';
import { named, PageQuery, Timestamp, pageBody, pageOf } from '../schemas';
import { erasureExample, erasureInputExample, pageExample } from '../examples';

const tags = ['Erasures'];

const ErasureOut = named('Erasure', v.object({
  erasureId: v.string(),
  addressHash: v.pipe(v.string(), v.description('SHA-256 (hex) of the lower-cased address: the record never holds the address itself.')),
  status: v.pipe(v.picklist(['pending', 'done']), v.description('`pending` only if the request was cut off: the same request again finishes it.')),
  requestedAt: Timestamp,
  requestedBy: v.pipe(v.string(), v.description('The API key id (or console member id) that asked first.')),
  completedAt: v.nullable(Timestamp),
  erased: v.nullable(
    v.object({
      invitations: v.number(),
      responses: v.number(),
      webhookBodies: v.pipe(v.number(), v.description('Webhook deliveries (kept 30 days) and events rewritten without the person’s data.')),
      storedAnswers: v.pipe(v.number(), v.description('Stored idempotent answers (kept 24 hours) rewritten without it.')),
    }),
  ),
}));

const IdParam = v.object({ erasureId: v.pipe(v.string(), v.description('The erasure\'s id (`era_…`), as `POST /v1/erasures` answered it.')) });

/** Erasures of a person's data (DESIGN-NOTES "Data rights"). */
export const erasureRoutes = ({ db, now }: Deps) =>
  new Hono<ApiEnv>()
    .post(
      '/',
      requireRole('admin'),
      doc({
        summary: 'Erase a person’s data',
        description:
          'Erases the address’s name, address, outlet and comments from every invitation, skipped record, response (released rows and testimonials included), webhook delivery and stored answer of the agency, and drops it from the suppressions list; exports and emails made after it no longer hold them. Released scores are anonymous and stay. The erased invitation and a named answer are then listed under a new random id (their old ids are hashes of the address), with their status and scores unchanged. A suppression keyed by the address’s hash keeps it out of every later round (skipped as `erased`) and cannot be lifted. Completes within the request; the record (`GET /v1/erasures/{erasureId}`) holds when and by which key, never the address. 201 the first time; asking again for the same address runs it again (catching anything new) and answers 200 with the first record’s time and author; a request cut off half-way is finished by the same request again.',
        tags,
        role: 'admin',
        idempotent: true,
        ok: [201, ErasureOut, 'The erasure, done'],
        example: erasureExample,
        location: 'The erasure\'s record: `/v1/erasures/{erasureId}` (on the 201 only).',
        problems: ['validation', 'idempotency-in-progress', 'idempotency-key-reused'],
      }),
      idempotent(db, now),
      validate('json', named('ErasureInput', ErasureInputSchema), erasureInputExample),
      async (c) => {
        const { agencyId, keyId } = c.get('principal');
        const { erasure, created } = await eraseAddress(db, agencyId, c.req.valid('json'), keyId, now());
        if (created) c.header('Location', `/v1/erasures/${erasure.erasureId}`);
        return c.json(erasure, created ? 201 : 200);
      },
    )
    .get(
      '/',
      doc({ summary: 'List erasures', tags, role: 'read', ok: [200, pageOf(ErasureOut), 'A page of erasures, by id'], example: pageExample(erasureExample), problems: ['validation'] }),
      validate('query', PageQuery),
      async (c) => c.json(pageBody(await listErasures(db, c.get('principal').agencyId, c.req.valid('query')), (e) => e)),
    )
    .get(
      '/:erasureId',
      doc({ summary: 'Get an erasure', tags, role: 'read', ok: [200, ErasureOut, 'The erasure'], example: erasureExample, problems: ['not-found'] }),
      validate('param', IdParam),
      async (c) => c.json(await getErasure(db, c.get('principal').agencyId, c.req.valid('param').erasureId)),
    );
