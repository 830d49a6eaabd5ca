import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { faultyDb, meterCapacity, sesEventTags, testDeps } from '@rapport/testing';
import { createAgency, updateSettings } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign } from '../campaign/campaign';
import { keys } from '../db/keys';
import { MailerError, type Mailer } from '../email/mailer';
import { closeRound } from '../jobs/expiry';
import { deliver } from '../sending/dispatch';
import { handleSesNotification } from '../sending/notifications';
import { createRound, type Invitation, type Round } from '../survey/round';
import { openInvitation, submitResponse } from '../survey/response';
import type { Audience } from '../survey/instrument';
import type { Db } from '../db/client';
import { agencyScores, campaignScores, proScores } from './report';
import { foldDelivered } from './open-rounds';

/**
 * An open round's delivered count is tallied from its invitations when read; its close folds the
 * tally into the counters, once. Every figure is the one the counters gave when they counted
 * each delivery as it happened: the same before the close as after it.
 */
const deps = testDeps();
const { db } = deps;
const delivery = (over: { db?: Db; mailer?: Mailer } = {}) => ({
  db,
  mailer: deps.mailer,
  linkSecret: deps.linkSecret,
  publicUrl: deps.config.publicUrl,
  mailFrom: deps.config.mailFrom,
  now: () => new Date(),
  ...over,
});
const refusing: Mailer = { send: async () => Promise.reject(new MailerError('Address blacklisted', 'MessageRejected', false, undefined, true)) };
const afterClose = (round: Round) => new Date(new Date(round.closesAt).getTime() + 60_000);

let n = 0;
async function agencyWithPro() {
  const tag = `${++n}-${Date.now()}`;
  const now = new Date();
  const agency = await createAgency(db, { name: `Open rounds ${tag}` }, now);
  await updateSettings(db, agency.agencyId, { anonymityThreshold: 3 }, now);
  const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, now);
  const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring' }, now);
  return { agencyId: agency.agencyId, proId: pro.proId, campaignId: campaign.campaignId, tag, now };
}

const bounce = (invitation: Invitation) =>
  JSON.stringify({
    notificationType: 'Bounce',
    bounce: { bounceType: 'Permanent', bouncedRecipients: [{ emailAddress: invitation.email }] },
    mail: { messageId: `m-${invitation.invitationId}`, tags: sesEventTags(invitation) },
  });

/** What happens to one invitation, in order: its send, an answer, a bounce (of a sent email), and whether the answer comes before the bounce. */
const invitationPlan = fc.record({
  audience: fc.constantFrom<Audience>('reporter', 'colleague', 'client'),
  send: fc.constantFrom('none', 'sent', 'refused'),
  answer: fc.boolean(),
  bounce: fc.boolean(),
  answerFirst: fc.boolean(),
});
const plans = fc.array(fc.record({ anonymous: fc.boolean(), invitations: fc.array(invitationPlan, { minLength: 1, maxLength: 6 }) }), { minLength: 1, maxLength: 2 });

/** What the counters counted when kept per event: named, an answer proves delivery; anonymous, delivery statuses only. */
function expectedDelivered(anonymous: boolean, p: { send: string; answer: boolean; bounce: boolean }): number {
  const delivered = p.send === 'sent' && !p.bounce ? 1 : 0;
  return !anonymous && p.answer ? 1 : delivered;
}

describe('delivered counts of open rounds', () => {
  it("a send's record is one UpdateItem of the invitation, in no index: 2 WRU a send (claim 1, record 1), no counter written", async () => {
    const fx = await agencyWithPro();
    const { round, accepted } = await createRound(db, fx.agencyId, fx.campaignId, { recipients: [{ email: `one-${fx.tag}@news.example`, audience: 'reporter' }] }, fx.now);
    const metered = testDeps().db;
    const meter = meterCapacity(metered, { writes: true });
    expect(await deliver(delivery({ db: metered }), { kind: 'invitation', roundId: round.roundId, invitationId: accepted[0]!.invitationId })).toBe('sent');
    const used = meter.read();
    expect(used.commands.TransactWriteItems).toBeUndefined();
    expect(used.commands.UpdateItem).toBe(2);
    expect(used.writeUnits).toBe(2);
    const counter = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.proCounter(fx.agencyId, fx.proId, round.period, 'reporter'), ConsistentRead: true }));
    expect(counter.Item?.delivered).toBeUndefined();
    expect((await proScores(db, fx.agencyId, fx.proId, { from: round.period, to: round.period }, fx.now)).periods[0]!.delivered).toBe(1);
  });

  it('lists a pro whose only round is open once it has a delivery, and not before', async () => {
    const fx = await agencyWithPro();
    const { round, accepted } = await createRound(db, fx.agencyId, fx.campaignId, { recipients: [{ email: `only-${fx.tag}@news.example`, audience: 'client' }] }, fx.now);
    const range = { from: round.period, to: round.period };
    expect((await agencyScores(db, fx.agencyId, range, { limit: 25 }, fx.now)).pros).toEqual([]);
    expect(await deliver(delivery(), { kind: 'invitation', roundId: round.roundId, invitationId: accepted[0]!.invitationId })).toBe('sent');
    const page = await agencyScores(db, fx.agencyId, range, { limit: 25 }, fx.now);
    expect(page.pros).toEqual([{ proId: fx.proId, name: 'Jane Doe', n: 0, items: {} }]);
    expect(page.periods).toEqual([{ period: round.period, delivered: 1, responses: 0, responseRatePercent: 0, total: { n: 0, items: {} }, audiences: { client: { n: 0, items: {} } } }]);
    // The audience filter applies to the open round's deliveries too.
    expect((await agencyScores(db, fx.agencyId, { ...range, audience: 'reporter' }, { limit: 25 }, fx.now)).pros).toEqual([]);
  });

  it('give the same delivered figures while a round is open as after its close, as the per-event counters did (generated histories)', async () => {
    await fc.assert(
      fc.asyncProperty(plans, async (plan) => {
        const fx = await agencyWithPro();
        const rounds: { round: Round; anonymous: boolean; invitations: Invitation[] }[] = [];
        for (const [r, rp] of plan.entries()) {
          const recipients = rp.invitations.map((p, i) => ({ email: `i${i}-r${r}-${fx.tag}@news.example`, audience: p.audience }));
          const { round, accepted } = await createRound(db, fx.agencyId, fx.campaignId, { recipients, attribution: rp.anonymous ? 'anonymous' : 'named' }, fx.now);
          rounds.push({ round, anonymous: rp.anonymous, invitations: accepted });
          for (const [i, p] of rp.invitations.entries()) {
            const invitation = accepted[i]!;
            const job = { kind: 'invitation' as const, roundId: round.roundId, invitationId: invitation.invitationId };
            if (p.send !== 'none') expect(await deliver(delivery(p.send === 'refused' ? { mailer: refusing } : {}), job)).toBe(p.send === 'refused' ? 'failed' : 'sent');
            const answer = () => submitResponse(db, invitation, { responsiveness: 4 }, new Date());
            const bounceIt = async () => {
              if (p.send === 'sent' && p.bounce) await handleSesNotification(db, bounce((await openInvitation(db, job, { consistent: true })).invitation), new Date());
            };
            if (p.answer && p.answerFirst) await answer();
            await bounceIt();
            if (p.answer && !p.answerFirst) await answer();
          }
        }
        const expected = { reporter: 0, colleague: 0, client: 0 } as Record<Audience, number>;
        plan.forEach((rp, r) => rp.invitations.forEach((p) => (expected[p.audience] += expectedDelivered(rp.anonymous, p))));
        const total = expected.reporter + expected.colleague + expected.client;
        const period = rounds[0]!.round.period;
        const range = { from: period, to: period };

        const figures = async () => ({
          pro: await Promise.all((['reporter', 'colleague', 'client'] as const).map(async (audience) => (await proScores(db, fx.agencyId, fx.proId, { ...range, audience }, fx.now)).periods[0]!.delivered)),
          proAudiences: Object.keys((await proScores(db, fx.agencyId, fx.proId, range, fx.now)).periods[0]!.audiences).sort(),
          campaign: (await campaignScores(db, fx.agencyId, fx.campaignId)).delivered,
          agency: (await agencyScores(db, fx.agencyId, range, { limit: 25 }, fx.now)).periods[0]!.delivered,
          listed: (await agencyScores(db, fx.agencyId, range, { limit: 25 }, fx.now)).pros.map((p) => p.proId),
          named: (await proScores(db, fx.agencyId, fx.proId, range, fx.now)).periods[0]!.responses,
        });
        const open = await figures();
        expect(open.pro).toEqual([expected.reporter, expected.colleague, expected.client]);
        expect(open.campaign).toBe(total);
        expect(open.agency).toBe(total);

        for (const { round } of rounds) expect(await closeRound(db, round.roundId, afterClose(round))).toBe(true);
        const closed = await figures();
        // Deliveries do not move at the close. Released answers may add responses, and with them
        // an audience (and the pro in the listing) that had answers but no delivery; nothing else.
        expect({ pro: closed.pro, campaign: closed.campaign, agency: closed.agency }).toEqual({ pro: open.pro, campaign: open.campaign, agency: open.agency });
        const answered = new Set(plan.flatMap((rp) => rp.invitations.filter((p) => p.answer).map((p) => p.audience)));
        expect(closed.proAudiences).toEqual([...new Set([...open.proAudiences, ...closed.proAudiences.filter((a) => answered.has(a as Audience))])].sort());
        expect(closed.listed).toEqual(open.listed.length > 0 || answered.size === 0 ? open.listed : expect.arrayContaining([]));
        expect(closed.listed.filter((p) => p !== fx.proId)).toEqual([]);
        for (const { round } of rounds) {
          expect((await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.openRound(fx.agencyId, round.roundId), ConsistentRead: true }))).Item).toBeUndefined();
        }
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 4), endOnFailure: true },
    );
  });

  it("counts every round once when rounds fold while the scores are read, one between each read of the counters and the open list's re-read (three in a row)", async () => {
    const fx = await agencyWithPro();
    const rounds: Round[] = [];
    for (const r of [0, 1, 2]) {
      const { round, accepted } = await createRound(db, fx.agencyId, fx.campaignId, { recipients: [{ email: `fold${r}-${fx.tag}@news.example`, audience: 'reporter' }] }, fx.now);
      expect(await deliver(delivery(), { kind: 'invitation', roundId: round.roundId, invitationId: accepted[0]!.invitationId })).toBe('sent');
      rounds.push(round);
    }
    // Each read of the campaign's counters is followed by the close of one more round.
    const reader = testDeps().db;
    const folding = [...rounds];
    const partition = keys.campaignCounter(fx.agencyId, fx.campaignId, '').PK;
    reader.client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const values = (args.input as { ExpressionAttributeValues?: Record<string, unknown> }).ExpressionAttributeValues;
        const round = folding[0];
        if (context.commandName === 'QueryCommand' && values?.[':pk'] === partition && round) {
          folding.shift();
          expect(await closeRound(db, round.roundId, afterClose(round))).toBe(true);
        }
        return result;
      },
      { step: 'initialize', name: 'foldAfterCounters' },
    );
    expect(folding).toHaveLength(3);
    expect((await campaignScores(reader, fx.agencyId, fx.campaignId)).delivered).toBe(3);
    expect(folding).toHaveLength(0);
    expect((await campaignScores(db, fx.agencyId, fx.campaignId)).delivered).toBe(3);
  });

  /** An anonymous round of three reporters, each emailed, one of them answered. */
  async function sentRound() {
    const fx = await agencyWithPro();
    const recipients = [0, 1, 2].map((i) => ({ email: `f${i}-${fx.tag}@news.example`, audience: 'reporter' as const }));
    const { round, accepted } = await createRound(db, fx.agencyId, fx.campaignId, { recipients, attribution: 'anonymous' }, fx.now);
    for (const i of accepted) expect(await deliver(delivery(), { kind: 'invitation', roundId: round.roundId, invitationId: i.invitationId })).toBe('sent');
    await submitResponse(db, accepted[2]!, { responsiveness: 5 }, new Date());
    const delivered = async () =>
      (await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.proCounter(fx.agencyId, fx.proId, round.period, 'reporter'), ConsistentRead: true }))).Item?.delivered;
    const bounceOf = async (i: number) =>
      handleSesNotification(db, bounce((await openInvitation(db, { roundId: round.roundId, invitationId: accepted[i]!.invitationId }, { consistent: true })).invitation), new Date());
    return { ...fx, round, delivered, bounceOf };
  }

  it('folds a round once when its close is cut off at any write and run again, or when two closes race', async () => {
    for (let nth = 1; ; nth++) {
      const { round, delivered } = await sentRound();
      const faulty = faultyDb(db);
      faulty.failWrite(nth);
      const cut = await closeRound(faulty.db, round.roundId, afterClose(round)).then(() => false, () => true);
      faulty.disarm();
      // Run again, twice at once.
      await Promise.all([closeRound(db, round.roundId, afterClose(round)), closeRound(db, round.roundId, afterClose(round))]);
      expect(await delivered(), `cut at write ${nth}`).toBe(3);
      if (!cut) break;
    }
  });

  it('a bounce during the fold is in it (the fold tallies again); one after it writes the counters, as before', async () => {
    const { agencyId, proId, round, delivered, bounceOf } = await sentRound();
    const faulty = faultyDb(db);
    const held = faulty.pauseTransactWrite();
    const folding = foldDelivered(faulty.db, agencyId, round.roundId);
    await held.reached;
    await bounceOf(0);
    held.resume();
    await folding;
    expect(await delivered()).toBe(2);
    // Closed (nothing left to fold), then a late bounce of the answered invitation: into the counters.
    expect(await closeRound(db, round.roundId, afterClose(round))).toBe(true);
    await bounceOf(2);
    expect(await delivered()).toBe(1);
    expect((await proScores(db, agencyId, proId, { from: round.period, to: round.period }, new Date())).periods[0]!.delivered).toBe(1);
  });
});
