import { Hono } from 'hono';
import * as v from 'valibot';
import { createPro, deactivatePro, erasePro, getPro, listPros, updatePro, FORMER_PRO_NAME, ProInputSchema, ProPatchSchema, type Pro } from '@rapport/core';
import type { Deps } from '../../deps';
import type { ApiEnv } from '../env';
import { requireRole } from '../auth';
import { idempotent } from '../idempotency';
import { validate } from '../validate';
import { doc } from '../route-docs';
import { named, PageQuery, pageBody, pageOf, ProOut, ProParam } from '../schemas';
import { deactivatedProExample, pageExample, proExample, proInputExample, proPatchExample } from '../examples';

// The pro's own mail preferences (set by the link in their emails) are theirs, not the API's.
const present = ({ agencyId: _agencyId, summariesOff: _s, earlyWarningsOff: _w, erasedAt: _e, ...pro }: Pro) => pro;
const tags = ['Pros'];

export const proRoutes = ({ db, now }: Deps) =>
  new Hono<ApiEnv>()
    .post(
      '/',
      requireRole('admin'),
      doc({
        summary: 'Register a pro',
        description: 'A PR professional of the agency. Emails are unique within the agency.',
        tags,
        role: 'admin',
        idempotent: true,
        ok: [201, ProOut, 'The new pro'],
        example: proExample,
        location: 'The new pro: `/v1/pros/{proId}`.',
        problems: ['conflict'],
      }),
      idempotent(db, now),
      validate('json', named('ProInput', ProInputSchema), proInputExample),
      async (c) => {
        const pro = await createPro(db, c.get('principal').agencyId, c.req.valid('json'), now());
        c.header('Location', `/v1/pros/${pro.proId}`);
        return c.json(present(pro), 201);
      },
    )
    .get(
      '/',
      doc({ summary: 'List pros', tags, role: 'read', ok: [200, pageOf(ProOut), 'A page of pros, oldest first'], example: pageExample(proExample) }),
      validate('query', PageQuery),
      async (c) => {
        const page = await listPros(db, c.get('principal').agencyId, c.req.valid('query'));
        return c.json(pageBody(page, present));
      },
    )
    .get(
      '/:proId',
      doc({ summary: 'Get a pro', tags, role: 'read', ok: [200, ProOut, 'The pro'], example: proExample, problems: ['not-found'] }),
      validate('param', ProParam),
      async (c) => c.json(present(await getPro(db, c.get('principal').agencyId, c.req.valid('param').proId))),
    )
    .patch(
      '/:proId',
      requireRole('admin'),
      doc({
        summary: 'Update a pro',
        description: 'A new name or address also reaches the pro’s open rounds: their reminders sign with it and take replies at it. A new address (not a change of letter case only) signs the pro out of the console: they sign in again with it. A pro whose personal data was erased cannot be changed (409): add them again as a new pro.',
        tags,
        role: 'admin',
        ok: [200, ProOut, 'The pro after the change'],
        example: { ...proExample, ...proPatchExample },
        problems: ['not-found', 'conflict'],
      }),
      validate('param', ProParam),
      validate('json', named('ProPatch', ProPatchSchema), proPatchExample),
      async (c) => {
        const { agencyId } = c.get('principal');
        return c.json(present(await updatePro(db, agencyId, c.req.valid('param').proId, c.req.valid('json'), now())));
      },
    )
    .delete(
      '/:proId',
      requireRole('admin'),
      doc({
        summary: 'Deactivate a pro (who left), and erase their data',
        description: `Deactivates the pro: they can no longer sign in, get no new rounds, summaries or early warnings; rounds already sent run to their close. Their scores and responses stay. With \`erase=true\` their personal data goes too: their name becomes "${FORMER_PRO_NAME}", their address is removed (it signs in nowhere, and may be registered again), and so is the text of their commitments and their name and address on their rounds; their rounds' invitations not yet sent are \`skipped\` (a first email already handed to a sender may still go out). The pro is kept (GET still answers it), so their scores stay reachable. Doing it twice changes nothing.`,
        tags,
        role: 'admin',
        ok: [200, ProOut, 'The pro, deactivated (and erased)'],
        example: deactivatedProExample,
        problems: ['validation', 'not-found'],
      }),
      validate('param', ProParam),
      validate('query', v.object({ erase: v.optional(v.pipe(v.picklist(['true', 'false'], 'must be true or false'), v.description('`true` also erases the pro’s personal data.'))) })),
      async (c) => {
        const { agencyId } = c.get('principal');
        const { proId } = c.req.valid('param');
        const pro = c.req.valid('query').erase === 'true' ? await erasePro(db, agencyId, proId, now()) : await deactivatePro(db, agencyId, proId, now());
        return c.json(present(pro));
      },
    );
