import { Hono } from 'hono';
import * as v from 'valibot';
import { createCampaign, getCampaign, idFilter, listCampaigns, CampaignInputSchema, type Campaign } from '@rapport/core';
import type { Deps } from '../../deps';
import type { ApiEnv } from '../env';
import { requireRole } from '../auth';
import { idempotent } from '../idempotency';
import { validate } from '../validate';
import { doc } from '../route-docs';
import { CampaignOut, CampaignParam, named, PageQuery, pageBody, pageOf } from '../schemas';
import { campaignExample, campaignInputExample, pageExample } from '../examples';

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
        example: campaignExample,
        location: 'The new campaign: `/v1/campaigns/{campaignId}`.',
      }),
      idempotent(db, now),
      validate('json', named('CampaignInput', CampaignInputSchema), campaignInputExample),
      async (c) => {
        const campaign = await createCampaign(db, c.get('principal').agencyId, c.req.valid('json'), now());
        c.header('Location', `/v1/campaigns/${campaign.campaignId}`);
        return c.json(present(campaign), 201);
      },
    )
    .get(
      '/',
      doc({
        summary: 'List campaigns',
        description: 'All of the agency\'s campaigns, or one pro\'s with `proId`. As on every listing, a malformed `proId` is a 400 naming it, and one that is not a pro of the agency a 404.',
        tags,
        role: 'read',
        ok: [200, pageOf(CampaignOut), 'A page of campaigns, oldest first'],
        example: pageExample(campaignExample),
        problems: ['not-found'],
      }),
      validate('query', v.object({ ...PageQuery.entries, proId: v.optional(v.pipe(idFilter('pro', 'pro'), v.description('Only this pro\'s campaigns.'))) })),
      async (c) => {
        const { proId, ...page } = c.req.valid('query');
        const result = await listCampaigns(db, c.get('principal').agencyId, { proId }, page);
        return c.json(pageBody(result, present));
      },
    )
    .get(
      '/:campaignId',
      doc({ summary: 'Get a campaign', tags, role: 'read', ok: [200, CampaignOut, 'The campaign'], example: campaignExample, problems: ['not-found'] }),
      validate('param', CampaignParam),
      async (c) => c.json(present(await getCampaign(db, c.get('principal').agencyId, c.req.valid('param').campaignId))),
    );
