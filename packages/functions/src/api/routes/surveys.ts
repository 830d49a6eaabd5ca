import { Hono } from 'hono';
import * as v from 'valibot';
import {
  cancelRound,
  closeRoundNow,
  createRound,
  getRound,
  readRound,
  listInvitations,
  listRounds,
  listSkipped,
  deliveryCounts,
  deliveryResponseRate,
  deliveryStatus,
  responseRate,
  withProgress,
  RoundInputSchema,
  SKIP_REASONS,
  type Invitation,
  type Round,
  type RoundWithProgress,
  type Skipped,
} from '@rapport/core';
import type { Deps } from '../../deps';
import type { ApiEnv } from '../env';
import { requireRole } from '../auth';
import { idempotent } from '../idempotency';
import { validate } from '../validate';
import { doc } from '../route-docs';
import { CampaignParam, InvitationOut, named, PageQuery, pageBody, pageOf, RoundCreatedOut, RoundOut, SKIPPED_SHOWN, SkippedOut, SurveyParam } from '../schemas';
import { invitationExample, pageExample, skippedExample, surveyCreatedExample, surveyExample, surveyInputExample } from '../examples';
import { errorFields, logger } from '../../logger';

const tags = ['Surveys'];

export const presentRound = (round: RoundWithProgress) => ({
  surveyId: round.roundId,
  campaignId: round.campaignId,
  proId: round.proId,
  attribution: round.attribution,
  status: round.status,
  counts: round.attribution === 'anonymous' ? deliveryCounts(round) : round.counts,
  responseRatePercent: round.attribution === 'anonymous' ? deliveryResponseRate(round) : responseRate(round.counts),
  createdAt: round.createdAt,
  closesAt: round.closesAt,
});

/**
 * On anonymous rounds an invitation shows delivery only (DESIGN "Anonymity, by construction"):
 * answered and expired show as `sent`, and reminders and answer times are left out, since joined
 * to the released answers they would tell who gave which. The round's counts still say how many
 * answered in all.
 */
const presentInvitation = (round: Round) => (i: Invitation) => {
  const named = round.attribution === 'named';
  return {
    invitationId: i.invitationId,
    email: i.email,
    name: i.name,
    audience: i.audience,
    outlet: i.outlet,
    status: named ? i.status : deliveryStatus(i),
    createdAt: i.createdAt,
    sentAt: i.sentAt,
    respondedAt: named ? i.respondedAt : null,
    remindersSent: named ? i.remindersSent : null,
    nextReminderAt: named ? i.nextReminderAt : null,
    failureReason: i.failure ?? null,
    retries: i.retries ?? 0,
  };
};

const presentSkippedRecipient = ({ index, email, reason }: Skipped) => ({ index, email, reason });

/**
 * What the 202 says of the skipped recipients: counts and the first few, so that the answer (which
 * an Idempotency-Key stores whole) stays small however many were skipped.
 */
const presentSkipped = (skipped: Skipped[]) => ({
  skippedTotal: skipped.length,
  skippedCounts: Object.fromEntries(SKIP_REASONS.map((reason) => [reason, skipped.filter((s) => s.reason === reason).length])),
  skipped: skipped.slice(0, SKIPPED_SHOWN).map(presentSkippedRecipient),
});

/**
 * Creates a round and queues its invitations: the API's POST and the console's Send. The round is
 * written before the queue is asked: a queue failure must not make the client retry it (without a
 * key the retry would find every address throttled). Unqueued invitations are queued again by the
 * scheduled job.
 */
export async function sendRound({ db, now, queue }: Pick<Deps, 'db' | 'now' | 'queue'>, agencyId: string, campaignId: string, input: unknown, options: { idempotencyKey?: string | undefined }) {
  const creation = await createRound(db, agencyId, campaignId, input, now(), options);
  const { round, accepted } = creation;
  await queue
    .enqueue(accepted.map((i) => ({ kind: 'invitation', roundId: round.roundId, invitationId: i.invitationId })))
    .catch((error) => logger.error('invitations not queued', { roundId: round.roundId, ...errorFields(error) }));
  return creation;
}

/** `POST` and `GET /v1/campaigns/{campaignId}/surveys`, mounted under the campaigns. */
export const createSurveyRoute = (deps: Deps) =>
  new Hono<ApiEnv>()
  .get(
    '/:campaignId/surveys',
    doc({ summary: "List a campaign's survey rounds", tags, role: 'read', ok: [200, pageOf(RoundOut), 'A page of rounds, oldest first'], example: pageExample(surveyExample), problems: ['not-found'] }),
    validate('param', CampaignParam),
    validate('query', PageQuery),
    async (c) => {
      const page = await listRounds(deps.db, c.get('principal').agencyId, c.req.valid('param').campaignId, c.req.valid('query'));
      return c.json(pageBody({ ...page, items: await withProgress(deps.db, page.items) }, presentRound));
    },
  )
  .post(
    '/:campaignId/surveys',
    requireRole('admin'),
    doc({
      summary: 'Send a survey round',
      description:
        'Sends the survey of a campaign to up to 2,000 recipients. Answers at once with the number accepted and those skipped, with the reason: `invalid` address, `duplicate` (a mailbox already in the request: case, a `+tag` and Gmail dots make no other person), `unsubscribed`, `bounced`, `complained`, or `throttled` (surveyed too recently, per the agency settings). The answer counts the skipped per reason and lists the first ' +
        `${SKIPPED_SHOWN}; \`GET /v1/surveys/{surveyId}/skipped\` pages them all.\n\n` +
        'With an `Idempotency-Key`, the round\'s id follows from the key: a retry after a 5xx or a timeout resumes the same round, writes only what the failed attempt had not, and answers the 202 the first attempt would have (a timed-out attempt holds the key for 60 s: until then the retry is a 409 `idempotency-in-progress`). Without a key, a failed request may leave a round with part of the recipients: it is listed under the campaign, and its invitations are sent like any other.',
      tags,
      role: 'admin',
      idempotent: true,
      ok: [202, RoundCreatedOut, 'The round, what was accepted and what was skipped'],
      example: surveyCreatedExample,
      location: 'The round, to follow its sending: `/v1/surveys/{surveyId}`.',
      problems: ['not-found', 'conflict', 'payload-too-large'],
    }),
    idempotent(deps.db, deps.now),
    validate('param', CampaignParam),
    validate('json', named('SurveyInput', RoundInputSchema), surveyInputExample),
    async (c) => {
      const { agencyId } = c.get('principal');
      const idempotencyKey = c.req.header('Idempotency-Key');
      const { round, accepted, skipped } = await sendRound(deps, agencyId, c.req.valid('param').campaignId, c.req.valid('json'), { idempotencyKey });
      c.header('Location', `/v1/surveys/${round.roundId}`);
      return c.json({ ...presentRound(round), accepted: accepted.length, ...presentSkipped(skipped) }, 202);
    },
  );

export const surveyRoutes = ({ db, now, queue }: Deps) =>
  new Hono<ApiEnv>()
    .get(
      '/:surveyId',
      doc({ summary: 'Get a survey round', description: 'Status counts and the response rate.', tags, role: 'read', ok: [200, RoundOut, 'The round'], example: surveyExample, problems: ['not-found'] }),
      validate('param', SurveyParam),
      async (c) => c.json(presentRound(await getRound(db, c.get('principal').agencyId, c.req.valid('param').surveyId))),
    )
    .get(
      '/:surveyId/invitations',
      doc({ summary: "List a round's invitations", tags, role: 'read', ok: [200, pageOf(InvitationOut), 'A page of invitations with their status'], example: pageExample(invitationExample), problems: ['not-found'] }),
      validate('param', SurveyParam),
      validate('query', PageQuery),
      async (c) => {
        const round = await readRound(db, c.get('principal').agencyId, c.req.valid('param').surveyId);
        return c.json(pageBody(await listInvitations(db, round.roundId, c.req.valid('query')), presentInvitation(round)));
      },
    )
    .get(
      '/:surveyId/skipped',
      doc({
        summary: "List a round's skipped recipients",
        description: 'Every recipient of the request that created the round which was not sent the survey, with the reason, in request order.',
        tags,
        role: 'read',
        ok: [200, pageOf(SkippedOut), 'A page of skipped recipients'],
        example: pageExample(skippedExample),
        problems: ['not-found'],
      }),
      validate('param', SurveyParam),
      validate('query', PageQuery),
      async (c) => {
        const round = await readRound(db, c.get('principal').agencyId, c.req.valid('param').surveyId);
        return c.json(pageBody(await listSkipped(db, round.roundId, c.req.valid('query')), presentSkippedRecipient));
      },
    )
    .post(
      '/:surveyId/cancel',
      requireRole('admin'),
      doc({ summary: 'Cancel a survey round', description: 'Stops pending sends and reminders. Recipients whose email had not gone out yet are `skipped` and get their throttle back, so a corrected round can go to them at once. The answer is as of the cancel: `counts.sending` are first emails already handed to a sender when it came, the only ones that may still go out after it.', tags, role: 'admin', ok: [200, RoundOut, 'The cancelled round'], example: { ...surveyExample, status: 'cancelled' }, problems: ['not-found', 'conflict'] }),
      validate('param', SurveyParam),
      async (c) => c.json(presentRound(await cancelRound(db, c.get('principal').agencyId, c.req.valid('param').surveyId))),
    )
    .post(
      '/:surveyId/close',
      requireRole('admin'),
      doc({
        summary: 'Close a survey round now',
        description:
          'Closes an open round before its date: no more answers are taken, unanswered invitations expire (no more reminders), and the answers are released as at the close (an anonymous audience with fewer than k answers waits in the pool). A send still in flight keeps the round open a moment longer (it is tried again within a minute). The answer is as of the close: `counts.sending` are first emails already handed to a sender, the only ones that may still go out after it.',
        tags,
        role: 'admin',
        ok: [200, RoundOut, 'The round, `closed` (or still `open` for a moment while a send settles)'],
        example: { ...surveyExample, status: 'closed' },
        problems: ['not-found', 'conflict'],
      }),
      validate('param', SurveyParam),
      async (c) => c.json(presentRound(await closeRoundNow(db, c.get('principal').agencyId, c.req.valid('param').surveyId, now(), queue))),
    );
