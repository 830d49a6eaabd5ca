import { afterAll, describe, expect, it } from 'vitest';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { collectingQueue, faultyDb, isolatedTestDeps, itemsHolding, sesEmails, workerAt } from '@rapport/testing';
import { createAgency } from '../agency/agency';
import { keys } from '../db/keys';
import { closeRound } from '../jobs/expiry';
import { createCampaign } from '../campaign/campaign';
import { createPro } from '../pro/pro';
import { deliver } from '../sending/dispatch';
import { recordedSends } from '../sending/records';
import { recoverSends } from '../jobs/recovery';
import { checkRounds } from '../jobs/round-work';
import { hashedId } from '../shared/ids';
import { addressHash } from '../survey/address';
import { cancelRound, createRound } from '../survey/round';
import { eraseAddress } from './erasure';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { readCounter } from '../scores/counters';
import { submitResponse } from '../survey/response';
import { listResponses } from '../responses/listing';
import { namedBatchId } from '../release/batch';

/** Attacks on the erasure's last step (`unlinkInvitation`, which moves the invitation to a random id) from writers naming the old id. */
const { db, linkSecret, mailer } = await isolatedTestDeps();
afterAll(() => db.client.destroy());

let n = 0;
async function roundOfTwo(at: Date, { delivered }: { delivered: boolean }) {
  const tag = `unlink-${++n}-${at.getTime()}`;
  const agency = await createAgency(db, { name: `Unlink races ${tag}` }, at);
  const pro = await createPro(db, agency.agencyId, { name: 'Pat Pro', email: `pat-${tag}@agency.example` }, at);
  const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Launch' }, at);
  const person = { email: `jane.${tag}@outlet.example`, name: `Jane Target ${tag}`, outlet: `Target Gazette ${tag}` };
  const recipients = [person, { email: `other-${tag}@outlet.example` }].map((r) => ({ ...r, audience: 'reporter' as const }));
  const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { attribution: 'anonymous', recipients }, at);
  if (delivered) for (const i of accepted) await deliver(workerAt({ db, mailer, linkSecret }, at), { kind: 'invitation', roundId: round.roundId, invitationId: i.invitationId });
  return { agencyId: agency.agencyId, campaignId: campaign.campaignId, roundId: round.roundId, person, needles: [person.email, person.name, person.outlet], old: hashedId('inv', round.roundId, addressHash(person.email)) };
}

async function statuses(roundId: string): Promise<string[]> {
  const { Items = [] } = await db.doc.send(new QueryCommand({ TableName: db.table, KeyConditionExpression: 'PK = :pk AND begins_with(SK, :inv)', ExpressionAttributeValues: { ':pk': keys.round(roundId).PK, ':inv': 'INV#' }, ConsistentRead: true }));
  return Items.map((i) => i.status as string).sort();
}

describe('an erasure while a round closes', () => {
  it('leaves no invitation of the closed round pending or sent, whichever write of the close the erasure (and its move) comes before', async () => {
    for (const delivered of [false, true]) {
      for (let nth = 1; ; nth++) {
        const t0 = new Date();
        const { agencyId, roundId, person, needles } = await roundOfTwo(t0, { delivered });
        const faulty = faultyDb(db);
        let erased = false;
        faulty.beforeWrite(nth, () => eraseAddress(db, agencyId, { email: person.email }, 'key_test', t0).then(() => (erased = true)));
        let closed = await closeRound(faulty.db, roundId, t0);
        if (!erased) {
          faulty.disarm();
          expect(nth, `delivered ${delivered}`).toBeGreaterThan(2);
          break;
        }
        const at = `erasure before write ${nth} of the close, delivered ${delivered}`;
        // A close that found a send in flight is run again by the next sweep.
        for (let run = 0; !closed && run < 3; run++) closed = await closeRound(db, roundId, t0);
        expect(closed, at).toBe(true);
        expect(await statuses(roundId), at).toEqual(delivered ? ['expired', 'expired'] : ['skipped', 'skipped']);
        expect(await itemsHolding(db, needles), at).toEqual([]);
      }
    }
  });
});

describe('an erasure while a round is cancelled', () => {
  it('leaves no invitation of the cancelled round pending, whichever write of the cancel the erasure (and its move) comes before', async () => {
    for (let nth = 1; ; nth++) {
      const t0 = new Date();
      const { agencyId, roundId, person, needles } = await roundOfTwo(t0, { delivered: false });
      const faulty = faultyDb(db);
      let erased = false;
      faulty.beforeWrite(nth, () => eraseAddress(db, agencyId, { email: person.email }, 'key_test', t0).then(() => (erased = true)));
      const cancelled = await cancelRound(faulty.db, agencyId, roundId);
      if (!erased) {
        faulty.disarm();
        expect(nth).toBeGreaterThan(2);
        break;
      }
      const at = `erasure before write ${nth} of the cancel`;
      expect(await statuses(roundId), at).toEqual(['skipped', 'skipped']);
      expect(cancelled.counts, at).toMatchObject({ pending: 0, sending: 0, skipped: 2 });
      expect(await itemsHolding(db, needles), at).toEqual([]);
    }
  });
});

const minutes = (at: Date, m: number) => new Date(at.getTime() + m * 60_000);

/** The sweep a lease later, the jobs it queues run, and the close, run again while a send is in flight. */
async function settle(roundId: string, at: Date) {
  for (let run = 0; run < 4; run++) {
    const queue = collectingQueue();
    await recoverSends({ db, queue, records: recordedSends(db) }, minutes(at, 16 + run * 16));
    for (const job of queue.jobs) await deliver(workerAt({ db, mailer, linkSecret }, minutes(at, 16 + run * 16)), job);
    if (await closeRound(db, roundId, minutes(at, 16 + run * 16))) return true;
  }
  return false;
}

describe('an erasure while an email to the address is being sent', () => {
  it('sends it at most once and none after the erasure, and the round still closes with every invitation settled and nothing under the old id but its mark: the erasure before any write of a first email or of a reminder', async () => {
    for (const kind of ['invitation', 'reminder'] as const) {
      for (let nth = 1; ; nth++) {
        const t0 = new Date();
        const { agencyId, roundId, person, needles, old } = await roundOfTwo(t0, { delivered: kind === 'reminder' });
        const at = kind === 'reminder' ? new Date(t0.getTime() + 4 * 86_400_000) : t0;
        const queue = collectingQueue();
        if (kind === 'reminder') await checkRounds({ db, queue, records: recordedSends(db) }, at);
        const job = kind === 'reminder' ? queue.jobs.find((j) => j.kind === 'reminder' && j.invitationId === old)! : { kind: 'invitation' as const, roundId, invitationId: old };
        expect(job, kind).toBeDefined();
        const emailed = (await sesEmails({ to: person.email })).length;
        const faulty = faultyDb(db);
        let erased = false;
        let emailedBefore = 0;
        faulty.beforeWrite(nth, async () => {
          await eraseAddress(db, agencyId, { email: person.email }, 'key_test', at);
          emailedBefore = (await sesEmails({ to: person.email })).length;
          erased = true;
        });
        await deliver(workerAt({ db: faulty.db, mailer, linkSecret }, at), job);
        if (!erased) {
          faulty.disarm();
          expect(nth, kind).toBeGreaterThan(1);
          break;
        }
        const where = `${kind}: erasure before write ${nth}`;
        expect(await settle(roundId, at), where).toBe(true);
        const emails = (await sesEmails({ to: person.email })).length;
        expect(emails - emailed, where).toBeLessThanOrEqual(1);
        expect(emails, `${where}: an email after the erasure`).toBe(emailedBefore);
        expect((await statuses(roundId)).every((s) => s === 'expired' || s === 'skipped'), `${where}: ${await statuses(roundId)}`).toBe(true);
        expect(await itemsHolding(db, needles), where).toEqual([]);
        expect((await itemsHolding(db, [old])).filter((k) => !k.startsWith(`SENT#`)), where).toEqual([`RND#${roundId}|GONE#${old}`]);
      }
    }
  });
});

describe('an erasure run twice at once', () => {
  it('moves the invitation, its named answer and batch once, whichever write of one run the other runs before: one invitation and one row each, nothing of the person, only the mark under the old ids, both records count the invitation', async () => {
    for (let nth = 1; ; nth++) {
      const t0 = new Date();
      const tag = `twice-${++n}-${t0.getTime()}`;
      const agency = await createAgency(db, { name: `Unlink races ${tag}` }, t0);
      const pro = await createPro(db, agency.agencyId, { name: 'Pat Pro', email: `pat-${tag}@agency.example` }, t0);
      const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Launch' }, t0);
      const person = { email: `jane.${tag}@outlet.example`, name: `Jane Target ${tag}`, outlet: `Target Gazette ${tag}` };
      const recipients = [person, { email: `other-${tag}@outlet.example` }].map((r) => ({ ...r, audience: 'reporter' as const }));
      const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { attribution: 'named', recipients }, t0);
      const comment = `Comment of the erased ${tag}`;
      for (const [i, invitation] of accepted.entries()) {
        await submitResponse(db, { roundId: round.roundId, invitationId: invitation.invitationId }, { responsiveness: 5, recommend: 10, listening: 4, improve: i === 0 ? comment : `Other ${tag}`, quoteConsent: true }, t0);
      }
      const old = accepted[0]!.invitationId;
      const faulty = faultyDb(db);
      let second: Awaited<ReturnType<typeof eraseAddress>> | undefined;
      faulty.beforeWrite(nth, async () => (second = await eraseAddress(db, agency.agencyId, { email: person.email }, 'key_test', t0)));
      const first = await eraseAddress(faulty.db, agency.agencyId, { email: person.email }, 'key_test', t0);
      if (!second) {
        faulty.disarm();
        expect(nth).toBeGreaterThan(3);
        break;
      }
      const at = `the second run before write ${nth} of the first`;
      expect(await statuses(round.roundId), at).toEqual(['responded', 'responded']);
      expect((await listResponses(db, agency.agencyId, {}, { limit: 100 })).items, at).toHaveLength(2);
      expect(await itemsHolding(db, [...Object.values(person), comment]), at).toEqual([]);
      expect((await itemsHolding(db, [old, namedBatchId(round.roundId, old)])).filter((k) => !k.startsWith('SENT#')), at).toEqual([`RND#${round.roundId}|GONE#${old}`]);
      // A named answer is counted by the run that erased it (one asked again finds none left), the invitation by both.
      expect(first.erasure.erased!.invitations + second.erasure.erased!.invitations, at).toBe(2);
      expect(first.erasure.erased!.responses + second.erasure.erased!.responses, at).toBeGreaterThanOrEqual(1);
    }
  });
});

/**
 * The Db with every strongly consistent read of a round's invitations in pages of one (as a round
 * of thousands is read), and `action` run once after the first page: a writer between two pages.
 */
function pagedDb(action: () => Promise<unknown>, { projected = false } = {}): typeof db {
  let armed = true;
  const send = (async (command: { constructor: { name: string }; input: Record<string, unknown> }, ...rest: unknown[]) => {
    const paged = command.constructor.name === 'QueryCommand' && command.input.ConsistentRead === true && String(command.input.KeyConditionExpression).includes(':inv');
    if (paged) command.input.Limit = 1;
    const result = await (db.doc.send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
    // `projected`: the action after the first page of a tally (projected) read, not of the close's own.
    if (paged && armed && (!projected || command.input.ProjectionExpression !== undefined)) {
      armed = false;
      await action();
    }
    return result;
  }) as typeof db.doc.send;
  return { ...db, doc: Object.assign(Object.create(db.doc) as typeof db.doc, { send }) };
}

describe('an erasure between two pages of a close', () => {
  it('leaves no invitation of the closed round sent, wherever the move puts it in the pages', async () => {
    for (let trial = 0; trial < 16; trial++) {
      const t0 = new Date();
      const { agencyId, roundId, person, needles } = await roundOfTwo(t0, { delivered: true });
      let closed = await closeRound(pagedDb(() => eraseAddress(db, agencyId, { email: person.email }, 'key_test', t0)), roundId, t0);
      for (let run = 0; !closed && run < 3; run++) closed = await closeRound(db, roundId, t0);
      expect(closed, `trial ${trial}`).toBe(true);
      expect(await statuses(roundId), `trial ${trial}`).toEqual(['expired', 'expired']);
      expect(await itemsHolding(db, needles)).toEqual([]);
    }
  });
});

describe('an erasure between two pages of the tally a close folds into the counters', () => {
  it('counts each delivery once, wherever the move puts the invitation in the pages', async () => {
    for (let trial = 0; trial < 16; trial++) {
      const t0 = new Date();
      const { agencyId, campaignId, roundId, person } = await roundOfTwo(t0, { delivered: true });
      expect(await closeRound(pagedDb(() => eraseAddress(db, agencyId, { email: person.email }, 'key_test', t0), { projected: true }), roundId, t0), `trial ${trial}`).toBe(true);
      const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.campaignCounter(agencyId, campaignId, 'reporter'), ConsistentRead: true }));
      expect(readCounter(Item!).delivered, `trial ${trial}`).toBe(2);
    }
  });
});
