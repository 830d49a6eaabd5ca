import { describe, expect, it } from 'vitest';
import { testDeps } from '@rapport/testing';
import { createAgency } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign } from '../campaign/campaign';
import { ValidationError } from '../shared/errors';
import { cancelRound, createRound, deliveryCounts, getRound } from './round';
import { settleAnsweredSend, transitionInvitation } from '../sending/transition';
import { getResponse, openInvitation, submitResponse, SurveyClosedError } from './response';

const { db } = testDeps();
const t0 = new Date('2026-05-04T08:00:00.000Z');
const at = (days: number) => new Date(t0.getTime() + days * 86_400_000);

let n = 0;
async function roundFixture(audience = 'reporter') {
  const agency = await createAgency(db, { name: `Response test ${++n}` }, t0);
  const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane${n}@acme.example` }, t0);
  const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Launch' }, t0);
  const { round, accepted } = await createRound(
    db,
    agency.agencyId,
    campaign.campaignId,
    { recipients: [{ email: `r${n}@x.example`, audience }, { email: `s${n}@x.example`, audience }] },
    t0,
  );
  return { agencyId: agency.agencyId, round, ref: { roundId: round.roundId, invitationId: accepted[0]!.invitationId } };
}

describe('responses', () => {
  it('stores one response, then a revision replaces it without counting twice', async () => {
    const { agencyId, round, ref } = await roundFixture();
    const first = await submitResponse(db, ref, { responsiveness: 2, recommend: 6, listening: 3, improve: '  Call back sooner. ' }, at(1));
    expect(first).toMatchObject({ revision: 1, instrumentVersion: 1, audience: 'reporter', answers: { responsiveness: 2, recommend: 6, listening: 3, improve: 'Call back sooner.', quoteConsent: false } });
    const second = await submitResponse(db, ref, { responsiveness: 4, recommend: 9, quoteConsent: true }, at(2));
    expect(second).toMatchObject({ revision: 2, firstSubmittedAt: first.submittedAt, answers: { responsiveness: 4, recommend: 9, quoteConsent: true } });
    expect(second.answers).not.toHaveProperty('listening');
    expect(await getResponse(db, ref)).toEqual(second);
    const { invitation } = await openInvitation(db, ref);
    expect(invitation).toMatchObject({ status: 'responded', respondedAt: at(2).toISOString() });
    expect((await getRound(db, agencyId, round.roundId)).counts).toMatchObject({ pending: 1, responded: 1 });
  });

  it('takes every one of ten concurrent submits, as revisions in some order, and counts the answer once', async () => {
    const { agencyId, round, ref } = await roundFixture();
    const results = await Promise.all(Array.from({ length: 10 }, (_, s) => submitResponse(db, ref, { responsiveness: 1 + (s % 5) }, at(1))));
    expect(results.map((r) => r.revision).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect((await getRound(db, agencyId, round.roundId)).counts).toMatchObject({ pending: 1, responded: 1 });
    const stored = await getResponse(db, ref);
    expect(stored).toEqual(results.find((r) => r.revision === 10));
  });

  it("accepts only the audience's own items, in range, naming the field and storing nothing", async () => {
    const { ref } = await roundFixture('client');
    const cases: [unknown, string][] = [
      [{}, 'responsiveness'],
      [{ responsiveness: 6 }, 'responsiveness'],
      [{ responsiveness: 3, recommend: 11 }, 'recommend'],
      [{ responsiveness: 3, relevance: 4 }, 'relevance'],
      [{ responsiveness: 3, improve: 'x'.repeat(2001) }, 'improve'],
    ];
    for (const [input, field] of cases) {
      const error = await submitResponse(db, ref, input, at(1)).catch((e) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.issues.map((i: { field: string }) => i.field)).toContain(field);
    }
    expect(await getResponse(db, ref)).toBeNull();
    expect((await submitResponse(db, ref, { responsiveness: 5, extraMile: 5, clarity: 4, anticipation: 3 }, at(1))).revision).toBe(1);
  });

  it('refuses answers after the round closes or is cancelled', async () => {
    const expired = await roundFixture();
    await expect(submitResponse(db, expired.ref, { responsiveness: 3 }, at(14))).rejects.toBeInstanceOf(SurveyClosedError);
    const cancelled = await roundFixture();
    await cancelRound(db, cancelled.agencyId, cancelled.round.roundId);
    await expect(submitResponse(db, cancelled.ref, { responsiveness: 3 }, at(1))).rejects.toBeInstanceOf(SurveyClosedError);
    expect(await getResponse(db, cancelled.ref)).toBeNull();
  });

  it("tallies a round's counts from its invitations after concurrent sends and answers; an anonymous round's delivery counts stay unmoved by the answers", async () => {
    const agency = await createAgency(db, { name: `Response test ${++n}` }, t0);
    const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane${n}@acme.example` }, t0);
    const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Launch' }, t0);
    const recipients = Array.from({ length: 40 }, (_, i) => ({ email: `p${i}-${n}@x.example`, audience: 'reporter' }));
    const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients }, t0);
    const move = (id: string, from: 'pending' | 'sending', to: 'sending' | 'sent' | 'failed') =>
      transitionInvitation(db, round.roundId, id, from, to, { roundNotClosing: to === 'sending' });
    const answer = (invitationId: string) => submitResponse(db, { roundId: round.roundId, invitationId }, { responsiveness: 4 }, at(1));
    // The last 4 stay pending. Of the rest, in four kinds: answered while its send was in flight (the
    // worker then records it under the answer), answered once sent, sent and not answered, refused by SES.
    await Promise.all(
      accepted.slice(0, 36).map(async ({ invitationId: id }, i) => {
        expect(await move(id, 'pending', 'sending')).toBe(true);
        if (i % 4 === 0) {
          await answer(id);
          expect(await move(id, 'sending', 'sent')).toBe(false);
          expect(await settleAnsweredSend(db, round.roundId, id, 'sent')).toBe(true);
        } else if (i % 4 === 3) {
          expect(await move(id, 'sending', 'failed')).toBe(true);
        } else {
          expect(await move(id, 'sending', 'sent')).toBe(true);
          if (i % 4 === 1) await Promise.all([answer(id), answer(id)]);
        }
      }),
    );
    const zero = { pending: 0, sending: 0, sent: 0, responded: 0, bounced: 0, failed: 0, expired: 0, skipped: 0 };
    const shown = await getRound(db, agency.agencyId, round.roundId);
    expect(shown.counts).toEqual({ ...zero, pending: 4, sent: 9, responded: 18, failed: 9 });
    expect(shown.answeredFrom).toEqual({ ...zero, sent: 18 });
    // What the anonymous round shows is what it would show had no one answered: delivery only.
    expect(deliveryCounts(shown)).toEqual({ ...zero, pending: 4, sent: 27, failed: 9 });
  });
});
