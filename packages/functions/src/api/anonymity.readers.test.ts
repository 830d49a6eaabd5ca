import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import {
  closeRound,
  createCampaign,
  createPro,
  createRound,
  createWebhook,
  eraseAddress,
  eventIdFor,
  keys,
  mailboxOf,
  submitResponse,
  updateSettings,
  type Audience,
} from '@rapport/core';
import { deliver } from '@rapport/core/sending/dispatch';
import { agencyFixture, sesEmails, testConfig, testAddress } from '@rapport/testing';
import { createDeps, deliveryDeps, inProcessSendQueue, type Deps } from '../deps';

/**
 * An attack on the readers the attacker test beside this file does not read: the agency's own
 * choice of recipients, the `round.closed` webhook, and an erasure's answer. The adversary is the
 * agency's admin, who wants to learn whether, or how, one identified person answered an anonymous
 * round. Each test is a way in that worked, kept so that it stays shut.
 */

const queue = inProcessSendQueue(() => deps);
const address = testAddress();
const deps: Deps = createDeps(testConfig({ WEBHOOKS_ALLOW_LOOPBACK: 'true' }), { clientAddress: () => address, queue });
const { db } = deps;
const K = 3;
const HOUR = 3_600_000;
const RUNS = Number(process.env.ATTACK_RUNS ?? 5);

/** An agency with k = 3, one pro and one campaign. */
async function setup(settings: Record<string, unknown> = {}) {
  const f = await agencyFixture(deps);
  await updateSettings(db, f.agencyId, { anonymityThreshold: K, ...settings } as never, new Date());
  const tag = f.agencyId.slice(-10).toLowerCase();
  const pro = await createPro(db, f.agencyId, { name: 'Ana', email: `ana-${tag}@acme.example` }, new Date());
  const campaign = await createCampaign(db, f.agencyId, { proId: pro.proId, name: 'Launch' }, new Date());
  return { f, tag, proId: pro.proId, campaignId: campaign.campaignId };
}

/** Ways of writing one mailbox that all deliver to it: case, `+tags`, and for Gmail dots and googlemail.com. */
const aliasesArb = fc
  .record({
    local: fc.stringMatching(/^[a-z]{3,8}$/),
    gmail: fc.boolean(),
    forms: fc.array(fc.record({ upper: fc.boolean(), tag: fc.option(fc.stringMatching(/^[a-z0-9]{1,6}$/), { nil: undefined }), dot: fc.nat({ max: 7 }), googlemail: fc.boolean() }), { minLength: K, maxLength: 6 }),
  })
  .map(({ local, gmail, forms }) =>
    forms.map(({ upper, tag, dot, googlemail }) => {
      const dotted = gmail && dot > 0 && dot < local.length ? `${local.slice(0, dot)}.${local.slice(dot)}` : local;
      const domain = gmail ? (googlemail ? 'googlemail.com' : 'gmail.com') : `${local}-mail.example`;
      const written = `${dotted}${tag ? `+${tag}` : ''}@${domain}`;
      return upper ? written.toUpperCase() : written;
    }),
  );

describe('the readers an agency controls, attacked', () => {
  it('a round takes one invitation per mailbox: aliases of one person are skipped as duplicates (property)', async () => {
    const { f, tag, campaignId } = await setup();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(aliasesArb, fc.integer({ min: 0, max: 3 }), async (aliases, others) => {
        const run = `${tag}${++n}`;
        // Each run a mailbox of its own, so the throttle never skips it.
        const mine = aliases.map((a) => a.replace(/^[^+@]*/, (local) => `${local}${run}`));
        const recipients = [...mine, ...Array.from({ length: others }, (_, i) => `other${i}-${run}@news.example`)].map((email) => ({ email, audience: 'reporter' as const }));
        const { accepted, skipped } = await createRound(db, f.agencyId, campaignId, { recipients }, new Date());
        const mailboxes = new Set(recipients.map((r) => mailboxOf(r.email)));
        expect(accepted).toHaveLength(mailboxes.size);
        expect(new Set(accepted.map((i) => mailboxOf(i.email))).size).toBe(accepted.length);
        expect(skipped.map((s) => s.reason)).toEqual(Array(recipients.length - mailboxes.size).fill('duplicate'));
      }),
      { numRuns: RUNS * 4 },
    );
  });

  it('an early warning never names a person by sending their aliases: k aliases of the target count once', async () => {
    const { f, tag, campaignId } = await setup({ earlyWarnings: true });
    // The target's mailbox under k names; they answer low through one of the links.
    const target = `jo.target.${tag}@gmail.com`;
    const aliases = [target, `jotarget.${tag}+rapport@gmail.com`, `JO.TARGET${tag}@googlemail.com`];
    expect(new Set(aliases.map(mailboxOf)).size).toBe(1);
    const { round, accepted } = await createRound(db, f.agencyId, campaignId, { recipients: aliases.map((email) => ({ email, audience: 'reporter' as const })) }, new Date());
    for (const invitation of accepted) expect(await deliver(deliveryDeps(deps), { kind: 'invitation', roundId: round.roundId, invitationId: invitation.invitationId })).toBe('sent');
    await new Promise((r) => setTimeout(r, 5));
    for (const invitation of accepted) {
      await submitResponse(db, invitation, { responsiveness: 1, recommend: 0, improve: 'Never calls back' }, new Date());
      expect(await deliver(deliveryDeps(deps), { kind: 'early-warning', roundId: round.roundId, invitationId: invitation.invitationId })).toBe('skipped');
    }
    expect(await sesEmails({ to: `ana-${tag}@acme.example` })).toEqual([]);
    // Nor a batch of the target's answers alone: one person's answer waits in the pool.
    await closeRound(db, round.roundId, new Date(Date.parse(round.closesAt) + HOUR));
    expect((await f.call('GET', '/v1/responses')).body.data).toEqual([]);
  });

  it("round.closed is the same whether or not the members of an audience below k answered (property)", async () => {
    const { f, tag, campaignId } = await setup();
    await createWebhook(db, f.agencyId, { url: 'http://127.0.0.1:9/hook', events: ['round.closed'] }, new Date(), { allowLoopback: true });
    const shapeArb = fc.array(fc.constantFrom<Audience>('reporter', 'colleague', 'client'), { minLength: 1, maxLength: 7 });
    let n = 0;
    await fc.assert(
      fc.asyncProperty(shapeArb, fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }), async (audiences, answered) => {
        /** The round as published, with everyone in `who` answering; batch ids left out (they name the round). */
        const published = async (who: (i: number) => boolean) => {
          const run = `${tag}-${++n}`;
          const recipients = audiences.map((audience, i) => ({ email: `p${i}-${run}@news.example`, audience }));
          const { round, accepted } = await createRound(db, f.agencyId, campaignId, { recipients }, new Date());
          for (const [i, invitation] of accepted.entries()) if (who(i)) await submitResponse(db, invitation, { responsiveness: 4 }, new Date());
          const at = new Date(Date.parse(round.closesAt) + HOUR);
          expect(await closeRound(db, round.roundId, at)).toBe(true);
          const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.webhookEvent(eventIdFor(at, 'round.closed', round.roundId)) }));
          const { scores } = (JSON.parse(Item!.body as string) as { data: { scores: Record<string, unknown>[] } }).data;
          return scores.map((s) => ({ ...s, batchId: s.batchId === null ? null : 'batch' }));
        };
        // An audience with fewer than k answers releases nothing: whether its people answered must not show.
        const size = (a: Audience) => audiences.filter((x, i) => x === a && answered[i]).length;
        const released = (i: number) => answered[i]! && size(audiences[i]!) >= K;
        expect(await published((i) => answered[i]!)).toEqual(await published(released));
      }),
      { numRuns: RUNS },
    );
  });

  it("an erasure's answer and the webhook bodies are the same whether the person's unreleased anonymous comment matches a published one or not", async () => {
    const { f, tag, campaignId } = await setup();
    await createWebhook(db, f.agencyId, { url: 'http://127.0.0.1:9/hook', events: ['responses.released'] }, new Date(), { allowLoopback: true });
    // A released batch whose rows carry a common comment, waiting in the outbox (as in a delivery's log).
    const first = await createRound(db, f.agencyId, campaignId, { recipients: [0, 1, 2].map((i) => ({ email: `first${i}-${tag}@news.example`, audience: 'reporter' as const })) }, new Date());
    for (const invitation of first.accepted) await submitResponse(db, invitation, { responsiveness: 4, improve: 'Call back sooner' }, new Date());
    await closeRound(db, first.round.roundId, new Date(Date.parse(first.round.closesAt) + HOUR));
    const released = (await f.call('GET', '/v1/responses')).body.data;
    expect(released.map((r: { answers: { improve: string } }) => r.answers.improve)).toEqual(Array(3).fill('Call back sooner'));

    // An open round: one target answers with that same comment, another does not answer. The admin erases each.
    const second = await createRound(db, f.agencyId, campaignId, { recipients: [0, 1, 2, 3].map((i) => ({ email: `second${i}-${tag}@news.example`, audience: 'reporter' as const })) }, new Date());
    await submitResponse(db, second.accepted[0]!, { responsiveness: 1, improve: 'Call back sooner' }, new Date());
    const answeredErasure = await eraseAddress(db, f.agencyId, { email: second.accepted[0]!.email }, 'key_admin', new Date());
    const silentErasure = await eraseAddress(db, f.agencyId, { email: second.accepted[1]!.email }, 'key_admin', new Date());
    expect(answeredErasure.erasure.erased).toEqual(silentErasure.erasure.erased);
    expect(answeredErasure.erasure.erased).toEqual({ invitations: 1, responses: 0, webhookBodies: 0, storedAnswers: 0 });
    // The other people's published comments are untouched.
    const batchId = released[0].batchId as string;
    const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.webhookEvent(eventIdFor(new Date(released[0].releasedAt), 'responses.released', batchId)) }));
    const rows = (JSON.parse(Item!.body as string) as { data: { rows: { answers: { improve: string | null } }[] } }).data.rows;
    expect(rows.map((r) => r.answers.improve)).toEqual(Array(3).fill('Call back sooner'));
  });
});
