import { describe, expect, it, vi } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { closeRound, keys, MailerError, submitResponse, type InvitationJob, type SendJob } from '@rapport/core';
import { deliver } from '@rapport/core/sending/dispatch';
import { agencyFixture, testDeps, type AgencyFixture } from '@rapport/testing';
import { deliveryDeps } from '../../deps';

// A queue that keeps its jobs: these tests look at rounds before anything is sent (the sending
// itself is tested in core and end to end).
const queued: SendJob[] = [];
const deps = testDeps({ queue: { enqueue: async (jobs) => void queued.push(...jobs) } });

async function campaign(f: AgencyFixture) {
  const { proId } = (await f.call('POST', '/v1/pros', { body: { name: 'Jane Doe', email: `jane-${f.agencyId}@acme.example` } })).body;
  return (await f.call('POST', '/v1/campaigns', { body: { proId, name: 'Spring Launch' } })).body.campaignId as string;
}

describe('survey rounds over the API', () => {
  it('answers 202 with the accepted count and each skipped recipient, then reports status counts', async () => {
    const f = await agencyFixture(deps);
    const campaignId = await campaign(f);
    const u = f.agencyId.slice(-8).toLowerCase();
    const res = await f.call('POST', `/v1/campaigns/${campaignId}/surveys`, {
      body: {
        attribution: 'named',
        recipients: [
          { email: `a-${u}@news.example`, audience: 'reporter', outlet: 'Daily' },
          { email: `b-${u}@corp.example`, audience: 'colleague' },
          { email: `A-${u}@news.example`, audience: 'client' },
          { email: 'nope', audience: 'client' },
        ],
      },
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      surveyId: expect.stringMatching(/^rnd_/),
      campaignId,
      attribution: 'named',
      status: 'open',
      accepted: 2,
      skipped: [
        { index: 2, email: `A-${u}@news.example`, reason: 'duplicate' },
        { index: 3, email: 'nope', reason: 'invalid' },
      ],
      responseRatePercent: null,
    });
    const round = await f.call('GET', `/v1/surveys/${res.body.surveyId}`, { key: f.readKey });
    expect(round.body.counts).toEqual({ pending: 2, sending: 0, sent: 0, responded: 0, bounced: 0, failed: 0, expired: 0, skipped: 0 });
    const invitations = await f.call('GET', `/v1/surveys/${res.body.surveyId}/invitations?limit=1`);
    expect(invitations.body.data).toHaveLength(1);
    expect(invitations.body.nextCursor).toEqual(expect.any(String));
    const all = (await f.call('GET', `/v1/surveys/${res.body.surveyId}/invitations`)).body.data as { invitationId: string; email: string }[];
    expect(all.map((i) => i.email).sort()).toEqual([`a-${u}@news.example`, `b-${u}@corp.example`]);
    // Each accepted invitation was queued for sending, once.
    expect((queued as InvitationJob[]).filter((j) => j.roundId === res.body.surveyId).map((j) => j.invitationId).sort()).toEqual(all.map((i) => i.invitationId).sort());
  });

  it('refuses invalid bodies naming the field, and accepts 2,000 recipients in one request', async () => {
    const f = await agencyFixture(deps);
    const campaignId = await campaign(f);
    const bad = await f.call('POST', `/v1/campaigns/${campaignId}/surveys`, { body: { recipients: [{ email: 'x@y.example', audience: 'editor' }] } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ field: 'recipients.0.audience', message: 'must be reporter, colleague or client' }]);
    const empty = await f.call('POST', `/v1/campaigns/${campaignId}/surveys`, { body: { recipients: [] } });
    expect(empty.body.errors[0].field).toBe('recipients');
    const u = f.agencyId.slice(-8).toLowerCase();
    const recipients = Array.from({ length: 2000 }, (_, i) => ({ email: `r${i}-${u}@bulk.example`, name: `Recipient number ${i}`, audience: 'client', outlet: 'Some Outlet Name' }));
    const big = await f.call('POST', `/v1/campaigns/${campaignId}/surveys`, { body: { recipients } });
    expect(big.status).toBe(202);
    expect(big.body.accepted).toBe(2000);
  }, 60_000);

  it("answers 404 for another agency's campaign or round, and 403 to a read key", async () => {
    const mine = await agencyFixture(deps);
    const theirs = await agencyFixture(deps);
    const theirCampaign = await campaign(theirs);
    const body = { recipients: [{ email: 'x@y.example', audience: 'client' }] };
    expect((await mine.call('POST', `/v1/campaigns/${theirCampaign}/surveys`, { body })).status).toBe(404);
    expect((await theirs.call('POST', `/v1/campaigns/${theirCampaign}/surveys`, { body, key: theirs.readKey })).status).toBe(403);
    const { surveyId } = (await theirs.call('POST', `/v1/campaigns/${theirCampaign}/surveys`, { body })).body;
    expect((await mine.call('GET', `/v1/surveys/${surveyId}`)).status).toBe(404);
    expect((await mine.call('GET', `/v1/surveys/${surveyId}/invitations`)).status).toBe(404);
    expect((await mine.call('POST', `/v1/surveys/${surveyId}/cancel`)).status).toBe(404);
    expect((await theirs.call('GET', `/v1/surveys/${surveyId}`)).body.status).toBe('open');
  });

  it('cancels a round, idempotently', async () => {
    const f = await agencyFixture(deps);
    const campaignId = await campaign(f);
    const { surveyId } = (await f.call('POST', `/v1/campaigns/${campaignId}/surveys`, { body: { recipients: [{ email: 'c@y.example', audience: 'client' }] } })).body;
    const first = await f.call('POST', `/v1/surveys/${surveyId}/cancel`);
    expect(first.status).toBe(200);
    expect(first.body.status).toBe('cancelled');
    expect((await f.call('POST', `/v1/surveys/${surveyId}/cancel`)).body.status).toBe('cancelled');
  });

  it('closes a round now: answers released at once, unanswered invitations expired, the close index left; then a 409', async () => {
    const f = await agencyFixture(deps);
    const campaignId = await campaign(f);
    const u = f.agencyId.slice(-8).toLowerCase();
    await f.call('PATCH', '/v1/settings', { body: { anonymityThreshold: 3 } });
    const emails = ['a', 'b', 'c', 'd'].map((who) => `${who}-${u}@news.example`);
    const { surveyId } = (await f.call('POST', `/v1/campaigns/${campaignId}/surveys`, { body: { recipients: emails.map((email) => ({ email, audience: 'reporter' })) } })).body;
    const { data } = (await f.call('GET', `/v1/surveys/${surveyId}/invitations`)).body as { data: { email: string; invitationId: string }[] };
    const delivery = deliveryDeps(deps);
    for (const i of data) await deliver(delivery, { kind: 'invitation', roundId: surveyId, invitationId: i.invitationId });
    for (const [n, i] of data.slice(0, 3).entries()) await submitResponse(deps.db, { roundId: surveyId, invitationId: i.invitationId }, { responsiveness: 3 + n }, new Date());
    const { proId } = (await f.call('GET', `/v1/campaigns/${campaignId}`)).body;
    const reporters = async () => (await f.call('GET', `/v1/pros/${proId}/scores?granularity=total`)).body.periods[0].audiences.reporter?.items.responsiveness;
    expect(await reporters()).toBeUndefined();

    expect((await f.call('POST', `/v1/surveys/${surveyId}/close`, { key: f.readKey })).status).toBe(403);
    const closed = await f.call('POST', `/v1/surveys/${surveyId}/close`);
    expect([closed.status, closed.body.status]).toEqual([200, 'closed']);
    // Anonymous: the unanswered invitation expired reads as sent, like the answered ones.
    expect(closed.body.counts).toEqual({ pending: 0, sending: 0, sent: 4, responded: 3, bounced: 0, failed: 0, expired: 0, skipped: 0 });
    expect(Date.parse(closed.body.closesAt)).toBeLessThanOrEqual(Date.now());
    expect(await reporters()).toMatchObject({ n: 3, mean: 4 });
    const item = (await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: keys.round(surveyId) }))).Item!;
    expect([item.GSI1PK, item.GSI1SK]).toEqual([undefined, undefined]);
    const again = await f.call('POST', `/v1/surveys/${surveyId}/close`);
    expect([again.status, again.body.detail]).toEqual([409, 'The survey has already closed']);
  });

  it('shows delivery only on anonymous rounds (answered and expired read as sent, no answer time or reminders); named rounds in full', async () => {
    const f = await agencyFixture(deps);
    const campaignId = await campaign(f);
    const u = f.agencyId.slice(-8).toLowerCase();
    const sentAt = new Date();
    const answeredAt = new Date(sentAt.getTime() + 60_000);
    const closedAt = new Date(sentAt.getTime() + 120_000);
    const delivery = { ...deliveryDeps(deps), now: () => sentAt };
    for (const attribution of ['anonymous', 'named'] as const) {
      const [answered, ignored, unsent] = ['answered', 'ignored', 'unsent'].map((who) => `${attribution}-${who}-${u}@news.example`);
      const { surveyId } = (
        await f.call('POST', `/v1/campaigns/${campaignId}/surveys`, { body: { attribution, recipients: [answered, ignored, unsent].map((email) => ({ email, audience: 'client' })) } })
      ).body;
      const list = async () => {
        const { data } = (await f.call('GET', `/v1/surveys/${surveyId}/invitations`, { key: f.readKey })).body as { data: { email: string; invitationId: string; createdAt: string }[] };
        return Object.fromEntries(data.map((i) => [i.email, i]));
      };
      const created = await list();
      const invitation = (email: string) => ({ roundId: surveyId, invitationId: created[email]!.invitationId });
      // Two emails go out; one recipient answers, the other never does, the third is never sent.
      for (const email of [answered!, ignored!]) await deliver(delivery, { kind: 'invitation', ...invitation(email) });
      await submitResponse(deps.db, invitation(answered!), { responsiveness: 4 }, answeredAt);
      const expected = (email: string, status: string, fields: { sentAt?: string | null; respondedAt?: string | null; remindersSent?: number | null; nextReminderAt?: string | null } = {}) => ({
        invitationId: created[email]!.invitationId,
        email,
        name: null,
        audience: 'client',
        outlet: null,
        status,
        createdAt: created[email]!.createdAt,
        sentAt: sentAt.toISOString(),
        respondedAt: null,
        remindersSent: attribution === 'named' ? 0 : null,
        nextReminderAt: null,
        failureReason: null,
        retries: 0,
        ...fields,
      });

      const counts = async () => (await f.call('GET', `/v1/surveys/${surveyId}`, { key: f.readKey })).body;
      const zero = { pending: 0, sending: 0, sent: 0, responded: 0, bounced: 0, failed: 0, expired: 0, skipped: 0 };
      const open = await list();
      const openRound = await counts();
      expect(await closeRound(deps.db, surveyId, closedAt)).toBe(true);
      const closed = await list();
      const closedRound = await counts();
      if (attribution === 'anonymous') {
        // The one who answered reads exactly like the one who did not, before and after the close.
        expect(open).toEqual({ [answered!]: expected(answered!, 'sent'), [ignored!]: expected(ignored!, 'sent'), [unsent!]: expected(unsent!, 'pending', { sentAt: null }) });
        expect(closed).toEqual({ [answered!]: expected(answered!, 'sent'), [ignored!]: expected(ignored!, 'sent'), [unsent!]: expected(unsent!, 'skipped', { sentAt: null }) });
        // The counts keep the answered invitation under `sent` (its status when answered), and the
        // unanswered one expired by the close too, so they move with delivery only; `responded`
        // counts answers released in the round's own batches: none here (one answer, pooled).
        expect(openRound.counts).toEqual({ ...zero, pending: 1, sent: 2, responded: 0 });
        expect(closedRound.counts).toEqual({ ...zero, sent: 2, responded: 0, skipped: 1 });
      } else {
        // Client reminders are planned 3 days after the email, unless they answer first.
        const reminder = new Date(sentAt.getTime() + 3 * 86_400_000).toISOString();
        expect(open).toEqual({
          [answered!]: expected(answered!, 'responded', { respondedAt: answeredAt.toISOString() }),
          [ignored!]: expected(ignored!, 'sent', { nextReminderAt: reminder }),
          [unsent!]: expected(unsent!, 'pending', { sentAt: null }),
        });
        expect(closed).toEqual({
          [answered!]: expected(answered!, 'responded', { respondedAt: answeredAt.toISOString() }),
          [ignored!]: expected(ignored!, 'expired'),
          [unsent!]: expected(unsent!, 'skipped', { sentAt: null }),
        });
        expect(openRound.counts).toEqual({ ...zero, pending: 1, sent: 1, responded: 1 });
        expect(closedRound.counts).toEqual({ ...zero, expired: 1, responded: 1, skipped: 1 });
      }
      // One answer of two delivered: shown as such on the named round; on the anonymous one only
      // released answers count, and this one waits in the pool.
      const rate = attribution === 'named' ? 50 : 0;
      expect(openRound).toMatchObject({ status: 'open', attribution, responseRatePercent: rate });
      expect(closedRound).toMatchObject({ status: 'closed', attribution, responseRatePercent: rate });
    }
  });

  it('says why an email failed, and counts the times SES did not take one (stubbed SES faults: the local server neither rejects nor throttles)', async () => {
    const f = await agencyFixture(deps);
    const campaignId = await campaign(f);
    const u = f.agencyId.slice(-8).toLowerCase();
    const recipients = ['x', 'y'].map((w) => ({ email: `${w}-${u}@news.example`, audience: 'reporter' }));
    const { surveyId } = (await f.call('POST', `/v1/campaigns/${campaignId}/surveys`, { body: { recipients } })).body;
    const list = async () => Object.fromEntries(((await f.call('GET', `/v1/surveys/${surveyId}/invitations`)).body.data as { invitationId: string; email: string; status: string; failureReason: string | null; retries: number }[]).map((i) => [i.email, i]));
    const job = async (email: string): Promise<SendJob> => ({ kind: 'invitation', roundId: surveyId, invitationId: (await list())[email]!.invitationId });
    const rejecting = { send: async () => Promise.reject(new MailerError('Address blacklisted', 'MessageRejected', false, undefined, true)) };
    const throttled = { send: async () => Promise.reject(new MailerError('Rate exceeded', 'Throttling', true, undefined, true)) };
    const quick = { retry: { attempts: 1, baseDelayMs: 1 }, requeue: async () => {} };
    expect(await deliver({ ...deliveryDeps(deps), ...quick, mailer: rejecting }, await job(recipients[0]!.email))).toBe('failed');
    expect(await deliver({ ...deliveryDeps(deps), ...quick, mailer: throttled }, await job(recipients[1]!.email))).toBe('retry');
    const after = await list();
    expect(after[recipients[0]!.email]).toMatchObject({ status: 'failed', failureReason: 'MessageRejected', retries: 0 });
    expect(after[recipients[1]!.email]).toMatchObject({ status: 'pending', failureReason: null, retries: 1 });
  });

  it('answers 202 when the queue is down (stubbed queue fault): the round stands and its invitations wait pending', async () => {
    // The logger writes its JSON lines to stderr.
    const errors = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const down = testDeps({ queue: { enqueue: async () => Promise.reject(new Error('queue unavailable')) } });
    const f = await agencyFixture(down);
    const campaignId = await campaign(f);
    const res = await f.call('POST', `/v1/campaigns/${campaignId}/surveys`, { body: { recipients: [{ email: `q-${f.agencyId.slice(-8).toLowerCase()}@news.example`, audience: 'client' }] } });
    expect(res.status).toBe(202);
    expect((await f.call('GET', `/v1/surveys/${res.body.surveyId}`)).body.counts).toMatchObject({ pending: 1 });
    const lines = errors.mock.calls.map(([chunk]) => JSON.parse(String(chunk)));
    expect(lines).toContainEqual(expect.objectContaining({ level: 'ERROR', message: 'invitations not queued', roundId: res.body.surveyId, error: { name: 'Error', message: 'queue unavailable' } }));
    errors.mockRestore();
  });

  it("lists a campaign's rounds, oldest first, and hides another agency's campaign", async () => {
    const f = await agencyFixture(deps);
    const campaignId = await campaign(f);
    const u = f.agencyId.slice(-8).toLowerCase();
    const ids: string[] = [];
    for (const who of ['x', 'y', 'z']) {
      ids.push((await f.call('POST', `/v1/campaigns/${campaignId}/surveys`, { body: { recipients: [{ email: `${who}-${u}@news.example`, audience: 'client' }] } })).body.surveyId);
    }
    const first = await f.call('GET', `/v1/campaigns/${campaignId}/surveys?limit=2`, { key: f.readKey });
    expect(first.status).toBe(200);
    expect(first.body.data.map((r: { surveyId: string }) => r.surveyId)).toEqual(ids.slice(0, 2));
    expect(first.body.data[0]).toMatchObject({ campaignId, status: 'open', counts: { pending: 1 } });
    const second = await f.call('GET', `/v1/campaigns/${campaignId}/surveys?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body).toEqual({ data: [expect.objectContaining({ surveyId: ids[2] })], nextCursor: null });
    const other = await agencyFixture(deps);
    expect((await other.call('GET', `/v1/campaigns/${campaignId}/surveys`)).status).toBe(404);
  });
});
