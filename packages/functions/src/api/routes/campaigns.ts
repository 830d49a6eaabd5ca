import { Hono } from 'hono';
import * as v from 'valibot';
import { createCampaign, getCampaign, idFilter, listCampaigns, CampaignInputSchema, type Campaign } from '@rapport/core';
import type { Deps } from '../../deps';
import type { ApiEnv } from '../env';
import { requireRole } from '../auth';
import { idempotent } from '../idempotency';
import { validate } from '../validate';
import { doc } from '../route-docs';
import { CampaignOut, PageQuery, pageBody, pageOf } from '../schemas';

const present = ({ agencyId: _agencyId, ...campaign }: Campaign) => campaign;
const tags = ['Campaigns'];

export const campaignRoutes = ({ db, now }: Deps) =>
  new Hono<ApiEnv>()
    .post(
      '/',
      requireRole('admin'),
      doc({
        summary: 'Record a campaign',
        description: 'A campaign belongs to one pro; surveys are sent per campaign.',
        tags,
        role: 'admin',
        idempotent: true,
        ok: [201, CampaignOut, 'The new campaign'],
        problems: ['validation', 'idempotency-key-reused'],
      }),
      idempotent(db, now),
      validate('json', CampaignInputSchema),
      async (c) => c.json(present(await createCampaign(db, c.get('principal').agencyId, c.req.valid('json'), now())), 201),
    )
    .get(
      '/',
      doc({
        summary: 'List campaigns',
        description: 'All of the agency\'s campaigns, or one pro\'s with `proId`. As on every listing, a malformed `proId` is a 400 naming it, and one that is not a pro of the agency a 404.',
        tags,
        role: 'read',
        ok: [200, pageOf(CampaignOut), 'A page of campaigns, oldest first'],
        problems: ['validation', 'not-found'],
      }),
      validate('query', v.object({ ...PageQuery.entries, proId: v.optional(idFilter('pro', 'pro')) })),
      async (c) => {
        const { proId, ...page } = c.req.valid('query');
        const result = await listCampaigns(db, c.get('principal').agencyId, { proId }, page);
        return c.json(pageBody(result, present));
      },
    )
    .get(
      '/:campaignId',
      doc({ summary: 'Get a campaign', tags, role: 'read', ok: [200, CampaignOut, 'The campaign'], problems: ['not-found'] }),
      validate('param', v.object({ campaignId: v.string() })),
      async (c) => c.json(present(await getCampaign(db, c.get('principal').agencyId, c.req.valid('param').campaignId))),
    );
