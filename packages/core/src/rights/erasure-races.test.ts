import { afterAll, describe, expect, it, vi } from 'vitest';
import { InternalServerError } from '@aws-sdk/client-dynamodb';
import { BatchExecuteStatementCommand, GetCommand, QueryCommand, ScanCommand, type BatchExecuteStatementCommandInput } from '@aws-sdk/lib-dynamodb';
import { collectingQueue, faultyDb, isolatedTestDeps, itemsHolding, sesEmails, workerAt } from '@rapport/testing';
import { createAgency, updateSettings } from '../agency/agency';
import { keys } from '../db/keys';
import { closeRound } from '../jobs/expiry';
import { finishReleases } from '../release/release';
import { submitResponse } from '../survey/response';
import { createWebhook } from '../webhooks/endpoints';
import { sweepWebhooks } from '../webhooks/events';
import { createCampaign } from '../campaign/campaign';
import { createPro } from '../pro/pro';
import { deliver } from '../sending/dispatch';
import { createRound } from '../survey/round';
import type { Db } from '../db/client';
import { hashedId } from '../shared/ids';
import { listResponses, listTestimonials } from '../responses/listing';
import { isTestimonial } from '../survey/response';
import { eraseAddress } from './erasure';
import { runRetention } from './retention';

/** Attacks on an erasure from writers running alongside it: nothing of the person may be written after it answered. */
const { db, linkSecret, mailer } = await isolatedTestDeps();
afterAll(() => db.client.destroy());

let n = 0;
/** An agency, pro and campaign; `person` has strings unique to the test. */
async function agencyWithCampaign(at: Date) {
  const tag = `race-${++n}-${at.getTime()}`;
  const agency = await createAgency(db, { name: `Erasure races ${tag}` }, at);
  const pro = await createPro(db, agency.agencyId, { name: 'Pat Pro', email: `pat-${tag}@agency.example` }, at);
  const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Launch' }, at);
  const person = { email: `Jane.${tag}@Outlet.example`, name: `Jane Target ${tag}`, outlet: `Target Gazette ${tag}` };
  return { agencyId: agency.agencyId, campaignId: campaign.campaignId, person, tag, needles: [person.email, person.name, person.outlet] };
}

describe('an erasure while a round for the address is being created', () => {
  it('leaves no copy of the address, name or outlet and emails nobody, whichever write of the creation it comes before (accepted, or skipped as throttled)', async () => {
    for (const surveyedBefore of [false, true]) {
      for (let nth = 1; ; nth++) {
        const t0 = new Date();
        const { agencyId, campaignId, person, tag, needles } = await agencyWithCampaign(t0);
        const other = { email: `other-${tag}@outlet.example`, audience: 'reporter' as const };
        // Surveyed a moment ago: the new round skips the address as throttled, and stores that record.
        if (surveyedBefore) await createRound(db, agencyId, campaignId, { recipients: [{ ...person, audience: 'reporter' }] }, t0);
        const faulty = faultyDb(db);
        let erased = false;
        faulty.beforeWrite(nth, () => eraseAddress(db, agencyId, { email: person.email }, 'key_test', t0).then(() => (erased = true)));
        const { round, accepted } = await createRound(faulty.db, agencyId, campaignId, { recipients: [{ ...person, audience: 'reporter' }, other] }, t0);
        if (!erased) {
          // The creation made fewer writes than that: every position was tried.
          faulty.disarm();
          expect(nth, `surveyedBefore ${surveyedBefore}`).toBeGreaterThan(3);
          break;
        }
        for (const i of accepted) await deliver(workerAt({ db, mailer, linkSecret }, t0), { kind: 'invitation', roundId: round.roundId, invitationId: i.invitationId });
        expect(await itemsHolding(db, needles), `erasure before write ${nth}, surveyedBefore ${surveyedBefore}`).toEqual([]);
        expect(JSON.stringify(accepted).toLowerCase(), `write ${nth}`).not.toContain(person.email.toLowerCase());
        expect(await sesEmails({ to: person.email }), `write ${nth}`).toEqual([]);
      }
    }
  });
});

/**
 * The Db with the first `count` statements of its first batch of invitations refused, as DynamoDB
 * refuses a statement it throttles (the others are written): the creation writes those singly.
 */
function refusingInvitations(db: Db, count: number): Db {
  let refused = false;
  const send = (async (command: { input: Partial<BatchExecuteStatementCommandInput> }, ...rest: unknown[]) => {
    const statements = command instanceof BatchExecuteStatementCommand ? (command.input.Statements ?? []) : [];
    if (refused || !statements.some((s) => String(s.Parameters?.[1]).startsWith('INV#'))) return (db.doc.send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
    refused = true;
    const { Responses = [] } = await db.doc.send(new BatchExecuteStatementCommand({ Statements: statements.slice(count) }));
    return { Responses: [...statements.slice(0, count).map(() => ({ Error: { Code: 'ThrottlingError', Message: 'Throughput exceeds the current capacity' } })), ...Responses] };
  }) as Db['doc']['send'];
  return { ...db, doc: Object.assign(Object.create(db.doc) as Db['doc'], { send }) };
}

describe('an erasure after a round creation for the address failed', () => {
  it('leaves nothing of the person and emails nobody: the creation answers its 5xx only once every write it began has landed', async () => {
    const t0 = new Date();
    const { agencyId, campaignId, person, tag, needles } = await agencyWithCampaign(t0);
    const others = [0, 1].map((i) => ({ email: `other${i}-${tag}@outlet.example`, audience: 'reporter' as const }));
    const idempotencyKey = `key-${tag}`;
    const roundId = hashedId('rnd', agencyId, idempotencyKey);
    const faulty = faultyDb(refusingInvitations(db, 2));
    // Its writes: the round, its WORK touch, the batch of reservations, the batch of invitations
    // (the first two refused), then those two singly (writes 5 and 6): the first fails, the person's is held.
    let held: ReturnType<typeof faulty.pauseWrite> | undefined;
    faulty.beforeWrite(5, async () => {
      held = faulty.pauseWrite(1);
      throw new InternalServerError({ message: 'Injected fault: internal server error', $metadata: { httpStatusCode: 500 } });
    });
    const recipients = [others[0]!, { ...person, audience: 'reporter' as const }, others[1]!];
    const outcome = createRound(faulty.db, agencyId, campaignId, { recipients }, t0, { idempotencyKey }).then(
      () => 'created',
      (error: Error) => error.name,
    );
    await vi.waitFor(() => expect(held).toBeDefined(), { timeout: 10_000 });
    await held!.reached;
    // The held write is a slow one: the creation's answer waits for it, or comes before it lands.
    const answered = await Promise.race([outcome, new Promise((resolve) => setTimeout(resolve, 500, 'in flight'))]);
    if (answered === 'in flight') held!.resume();
    expect(await outcome).toBe('InternalServerError');
    // No retry comes; the agency erases the person.
    await eraseAddress(db, agencyId, { email: person.email }, 'key_test', t0);
    held!.resume();
    faulty.disarm();
    const invitations = async () =>
      (await db.doc.send(new QueryCommand({ TableName: db.table, KeyConditionExpression: 'PK = :pk AND begins_with(SK, :inv)', ExpressionAttributeValues: { ':pk': `RND#${roundId}`, ':inv': 'INV#' }, ConsistentRead: true }))).Items ?? [];
    // The person's invitation and the last recipient's (the first one's write failed).
    await vi.waitFor(async () => expect(await invitations()).toHaveLength(2));
    // Queued by the round's check, its lease over.
    for (const i of await invitations()) await deliver(workerAt({ db, mailer, linkSecret }, t0), { kind: 'invitation', roundId, invitationId: i.invitationId as string });
    expect(await itemsHolding(db, needles)).toEqual([]);
    expect(await sesEmails({ to: person.email })).toEqual([]);
    expect(answered).toBe('in flight');
  });
});

/** Every item of the agency's: the test's table is its own. */
async function itemsOf(agencyId: string): Promise<Record<string, unknown>[]> {
  const found: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(new ScanCommand({ TableName: db.table, ExclusiveStartKey: start }));
    found.push(...(page.Items ?? []).filter((item) => item.agencyId === agencyId));
    start = page.LastEvaluatedKey;
  } while (start);
  return found;
}

/**
 * What the agency reads of its released anonymous answers must agree with itself: a listed row that
 * is a testimonial has its testimonial, and the `responses.released` events list the rows listed. A
 * row missing from one of them, beside the others, is the one an erasure touched: the person's.
 */
async function expectPublishedWhole(agencyId: string, at: string) {
  const rows = (await listResponses(db, agencyId, {}, { limit: 100 })).items;
  const quotes = (await listTestimonials(db, agencyId, {}, { limit: 100 })).items.map((t) => t.quote).sort();
  expect(quotes, at).toEqual(rows.filter((r) => isTestimonial(r.answers)).map((r) => r.answers.improve).sort());
  const events = (await itemsOf(agencyId)).filter((item) => item.type === 'webhookEvent' && item.eventType === 'responses.released');
  const evented = events.flatMap((e) => (JSON.parse(e.body as string) as { data: { rows: unknown[] } }).data.rows);
  const byJson = (list: unknown[]) => list.map((r) => JSON.stringify(r)).sort();
  expect(byJson(evented), at).toEqual(byJson(rows));
}

/** Whether the answer under `key` is still unreleased and without its comment: the erasure took it before any release. */
async function erasedUnreleased(key: { PK: string; SK: string }): Promise<boolean> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: key, ConsistentRead: true }));
  return Item !== undefined && Item.release === undefined && (Item.answers as { improve?: string }).improve === undefined;
}

/** The comment is nowhere if the erasure took it before its release; else it stays as published. */
async function expectCommentAsDecided(agencyId: string, comment: string, erasedFirst: boolean, at: string) {
  const listed = (await listResponses(db, agencyId, {}, { limit: 100 })).items.some((r) => r.answers.improve === comment);
  if (erasedFirst) expect(await itemsHolding(db, [comment]), at).toEqual([]);
  expect(listed, `${at}: published ${!erasedFirst}`).toBe(!erasedFirst);
}

const answers = (improve: string) => ({ responsiveness: 5, recommend: 10, listening: 4, improve, quoteConsent: true });

describe('an erasure while an anonymous round closes (its answers released)', () => {
  it('leaves the comment nowhere unless the answer was published before the erasure read it, and what is published whole (a moved row keeps its testimonial, tied to it alone): the erasure between any two writes of the close, the close between any two of the erasure, or the close cut off there and finished after the erasure', async () => {
    for (const inside of ['close', 'erasure', 'close cut off'] as const) {
      for (let nth = 1; ; nth++) {
        const t0 = new Date();
        const { agencyId, campaignId, person, tag, needles } = await agencyWithCampaign(t0);
        await updateSettings(db, agencyId, { anonymityThreshold: 3 }, t0);
        await createWebhook(db, agencyId, { url: 'http://127.0.0.1:9/hook', events: ['responses.released', 'round.closed'] }, t0, { allowLoopback: true });
        const recipients = [person, { email: `b-${tag}@outlet.example` }, { email: `c-${tag}@outlet.example` }].map((r) => ({ ...r, audience: 'reporter' as const }));
        const { round, accepted } = await createRound(db, agencyId, campaignId, { attribution: 'anonymous', recipients }, t0);
        const comment = `Comment of the erased ${tag}`;
        for (const [i, invitation] of accepted.entries()) {
          await submitResponse(db, { roundId: round.roundId, invitationId: invitation.invitationId }, answers(i === 0 ? comment : `Someone else ${tag}`), t0);
        }
        const target = accepted[0]!.invitationId;
        const faulty = faultyDb(db);
        const erase = (on: typeof db) => eraseAddress(on, agencyId, { email: person.email }, 'key_test', t0);
        const targetKey = keys.response(round.roundId, target);
        let alongside = false;
        let erasedFirst = false;
        if (inside === 'close') {
          faulty.beforeWrite(nth, async () => {
            await erase(db);
            erasedFirst = await erasedUnreleased(targetKey);
            alongside = true;
          });
          expect(await closeRound(faulty.db, round.roundId, t0)).toBe(true);
        } else if (inside === 'erasure') {
          faulty.beforeWrite(nth, async () => {
            erasedFirst = await erasedUnreleased(targetKey);
            await closeRound(db, round.roundId, t0);
            alongside = true;
          });
          await erase(faulty.db);
        } else {
          // The close dies at its nth write; the erasure runs; the scheduled job finishes the close.
          faulty.failWrite(nth);
          alongside = await closeRound(faulty.db, round.roundId, t0).then(() => false, () => true);
          await erase(db);
          erasedFirst = await erasedUnreleased(targetKey);
          await finishReleases(db);
          await closeRound(db, round.roundId, t0);
        }
        if (!alongside) {
          faulty.disarm();
          expect(nth).toBeGreaterThan(5);
          break;
        }
        const at = inside === 'close cut off' ? `close cut off at write ${nth}` : `${inside === 'close' ? 'erasure' : 'close'} before write ${nth} of the ${inside}`;
        expect(await itemsHolding(db, needles), at).toEqual([]);
        await expectCommentAsDecided(agencyId, comment, erasedFirst, at);
        // Released, it moved off that key, whose id follows from the address, and no copy of it (its testimonial) names it.
        const tied = (await itemsOf(agencyId)).filter((item) => item.answers !== undefined && item.invitationId === target);
        expect(tied.map((item) => `${item.PK}|${item.SK}`), at).toEqual([]);
        await expectPublishedWhole(agencyId, at);
      }
    }
  }, 180_000);
});

describe('an erasure while a pool is released', () => {
  it('leaves the comment nowhere unless published before, and what is published whole: the erasure between any two writes of the close that releases the pool, the close between any two of the erasure, or the close cut off there and finished after the erasure', async () => {
    for (const mode of ['inside close', 'inside erasure', 'close cut off'] as const) {
      for (let nth = 1; ; nth++) {
        const t0 = new Date();
        const { agencyId, campaignId, person, tag, needles } = await agencyWithCampaign(t0);
        await updateSettings(db, agencyId, { anonymityThreshold: 3 }, t0);
        await createWebhook(db, agencyId, { url: 'http://127.0.0.1:9/hook', events: ['responses.released'] }, t0, { allowLoopback: true });
        const comment = `Comment of the erased ${tag}`;
        // Three one-person rounds of one pro and audience: the third close brings the pool to k = 3 people.
        const rounds = [];
        for (const [i, recipient] of [person, { email: `b-${tag}@outlet.example` }, { email: `c-${tag}@outlet.example` }].entries()) {
          const { round, accepted } = await createRound(db, agencyId, campaignId, { attribution: 'anonymous', recipients: [{ ...recipient, audience: 'reporter' }] }, t0);
          await submitResponse(db, { roundId: round.roundId, invitationId: accepted[0]!.invitationId }, answers(i === 0 ? comment : `Someone else ${i} ${tag}`), t0);
          rounds.push({ roundId: round.roundId, invitationId: accepted[0]!.invitationId });
        }
        for (const { roundId } of rounds.slice(0, 2)) expect(await closeRound(db, roundId, t0)).toBe(true);
        const last = rounds[2]!.roundId;
        const faulty = faultyDb(db);
        const erase = (on: typeof db) => eraseAddress(on, agencyId, { email: person.email }, 'key_test', t0);
        const targetKey = keys.response(rounds[0]!.roundId, rounds[0]!.invitationId);
        let alongside = false;
        let erasedFirst = false;
        if (mode === 'inside close') {
          faulty.beforeWrite(nth, async () => {
            await erase(db);
            erasedFirst = await erasedUnreleased(targetKey);
            alongside = true;
          });
          await closeRound(faulty.db, last, t0);
        } else if (mode === 'inside erasure') {
          faulty.beforeWrite(nth, async () => {
            erasedFirst = await erasedUnreleased(targetKey);
            await closeRound(db, last, t0);
            alongside = true;
          });
          await erase(faulty.db);
        } else {
          faulty.failWrite(nth);
          alongside = await closeRound(faulty.db, last, t0).then(() => false, () => true);
          await erase(db);
          erasedFirst = await erasedUnreleased(targetKey);
          // The scheduled job's retries.
          await finishReleases(db);
          await closeRound(db, last, t0);
        }
        if (!alongside) {
          faulty.disarm();
          expect(nth).toBeGreaterThan(5);
          break;
        }
        const at = `${mode}, write ${nth}`;
        expect(await itemsHolding(db, needles), at).toEqual([]);
        const target = rounds[0]!;
        await expectCommentAsDecided(agencyId, comment, erasedFirst, at);
        const tied = (await itemsOf(agencyId)).filter((item) => item.answers !== undefined && item.invitationId === target.invitationId);
        expect(tied.map((item) => `${item.PK}|${item.SK}`), at).toEqual([]);
        expect((await listResponses(db, agencyId, {}, { limit: 100 })).items, at).toHaveLength(3);
        await expectPublishedWhole(agencyId, at);
      }
    }
  }, 180_000);
});

describe('an erasure while a retention pass removes comments', () => {
  it('leaves no comment the pass removes, the erasure between any two writes of the pass or the pass between any two of the erasure', async () => {
    for (const inside of ['retention', 'erasure'] as const) {
      for (let nth = 1; ; nth++) {
        const t0 = new Date();
        const { agencyId, campaignId, person, tag, needles } = await agencyWithCampaign(t0);
        await updateSettings(db, agencyId, { anonymityThreshold: 3 }, t0);
        const recipients = [person, { email: `b-${tag}@outlet.example` }, { email: `c-${tag}@outlet.example` }].map((r) => ({ ...r, audience: 'reporter' as const }));
        const { round, accepted } = await createRound(db, agencyId, campaignId, { attribution: 'anonymous', recipients }, t0);
        const comments = accepted.map((_, i) => `Comment ${i} of ${tag}`);
        for (const [i, invitation] of accepted.entries()) await submitResponse(db, { roundId: round.roundId, invitationId: invitation.invitationId }, answers(comments[i]!), t0);
        expect(await closeRound(db, round.roundId, t0)).toBe(true);
        // Comments are kept a month from their release: 40 days on, the pass removes all three.
        await updateSettings(db, agencyId, { retention: { commentsMonths: 1 } }, t0);
        const later = new Date(t0.getTime() + 40 * 86_400_000);
        const faulty = faultyDb(db);
        const erase = (on: typeof db) => eraseAddress(on, agencyId, { email: person.email }, 'key_test', later);
        let alongside = false;
        if (inside === 'retention') {
          faulty.beforeWrite(nth, () => erase(db).then(() => (alongside = true)));
          await runRetention(faulty.db, later);
        } else {
          faulty.beforeWrite(nth, () => runRetention(db, later).then(() => (alongside = true)));
          await erase(faulty.db);
        }
        if (!alongside) {
          faulty.disarm();
          expect(nth).toBeGreaterThan(2);
          break;
        }
        const at = `${inside === 'retention' ? 'erasure' : 'retention'} before write ${nth} of the ${inside}`;
        expect(await itemsHolding(db, [...needles, ...comments]), at).toEqual([]);
        expect((await listTestimonials(db, agencyId, {}, { limit: 100 })).items, at).toEqual([]);
      }
    }
  }, 180_000);
});

describe('an erasure cut off and retried, a close between', () => {
  it('leaves nothing of the person, what is published whole, and answers alike whether or not they answered, whichever write of the erasure failed', async () => {
    for (let nth = 1; ; nth++) {
      const t0 = new Date();
      const records = [];
      let cut = true;
      for (const answered of [true, false]) {
        const { agencyId, campaignId, person, tag, needles } = await agencyWithCampaign(t0);
        await updateSettings(db, agencyId, { anonymityThreshold: 3 }, t0);
        await createWebhook(db, agencyId, { url: 'http://127.0.0.1:9/hook', events: ['responses.released', 'round.closed'] }, t0, { allowLoopback: true });
        const recipients = [person, ...['b', 'c', 'd'].map((who) => ({ email: `${who}-${tag}@outlet.example` }))].map((r) => ({ ...r, audience: 'reporter' as const }));
        const { round, accepted } = await createRound(db, agencyId, campaignId, { attribution: 'anonymous', recipients }, t0);
        const comment = `Comment of the erased ${tag}`;
        for (const [i, invitation] of accepted.entries()) {
          if (i === 0 && !answered) continue;
          await submitResponse(db, { roundId: round.roundId, invitationId: invitation.invitationId }, answers(i === 0 ? comment : `Someone else ${i} ${tag}`), t0);
        }
        const faulty = faultyDb(db);
        faulty.failWrite(nth);
        cut = await eraseAddress(faulty.db, agencyId, { email: person.email }, 'key_test', t0).then(() => false, () => true);
        faulty.disarm();
        const erasedFirst = await erasedUnreleased(keys.response(round.roundId, accepted[0]!.invitationId));
        expect(await closeRound(db, round.roundId, t0)).toBe(true);
        const { erasure } = await eraseAddress(db, agencyId, { email: person.email }, 'key_test', t0);
        records.push(erasure.erased);
        const at = `erasure cut off at write ${nth}, answered ${answered}`;
        expect(await itemsHolding(db, needles), at).toEqual([]);
        const target = accepted[0]!.invitationId;
        // Cut off before it erased the comment, the answer was released with it: it stays, moved.
        if (answered) await expectCommentAsDecided(agencyId, comment, erasedFirst, at);
        expect((await itemsOf(agencyId)).filter((item) => item.answers !== undefined && item.invitationId === target).map((item) => `${item.PK}|${item.SK}`), at).toEqual([]);
        await expectPublishedWhole(agencyId, at);
      }
      expect(records[0], `erasure cut off at write ${nth}`).toEqual(records[1]);
      if (!cut) break;
    }
  }, 180_000);
});

describe('an erasure while webhook events are fanned out', () => {
  it('leaves no delivery holding the address, name or comment, whichever write of the fan-out it comes before', async () => {
    for (let nth = 1; ; nth++) {
      const t0 = new Date();
      const { agencyId, campaignId, person, tag, needles } = await agencyWithCampaign(t0);
      for (const events of [['response.created'], ['response.created', 'round.closed']]) {
        await createWebhook(db, agencyId, { url: 'http://127.0.0.1:9/hook', events }, t0, { allowLoopback: true });
      }
      const { round, accepted } = await createRound(db, agencyId, campaignId, { attribution: 'named', recipients: [{ ...person, audience: 'reporter' }] }, t0);
      const comment = `Comment of the erased ${tag}`;
      await submitResponse(db, { roundId: round.roundId, invitationId: accepted[0]!.invitationId }, answers(comment), t0);
      const faulty = faultyDb(db);
      let erased = false;
      faulty.beforeWrite(nth, () => eraseAddress(db, agencyId, { email: person.email }, 'key_test', t0).then(() => (erased = true)));
      await sweepWebhooks(faulty.db, collectingQueue(), new Date(t0.getTime() + 1000));
      if (!erased) {
        faulty.disarm();
        expect(nth).toBeGreaterThan(2);
        break;
      }
      expect(await itemsHolding(db, [...needles, comment]), `erasure before write ${nth}`).toEqual([]);
    }
  });
});

describe('after an erasure', () => {
  it('skips the address as erased in any case and surrounding whitespace, in a round or resumed with the same key', async () => {
    const t0 = new Date();
    const { agencyId, campaignId, person, needles } = await agencyWithCampaign(t0);
    await eraseAddress(db, agencyId, { email: `  ${person.email.toUpperCase()} ` }, 'key_test', t0);
    const forms = [person.email.toLowerCase(), `\t${person.email}  `, person.email.toUpperCase()];
    for (const [i, email] of forms.entries()) {
      const input = { recipients: [{ email, name: person.name, outlet: person.outlet, audience: 'reporter' }] };
      for (let attempt = 0; attempt < 2; attempt++) {
        const { accepted, skipped } = await createRound(db, agencyId, campaignId, input, t0, { idempotencyKey: `form-${i}` });
        expect(accepted).toEqual([]);
        expect(skipped).toEqual([{ index: 0, email: '', reason: 'erased' }]);
      }
    }
    expect(await itemsHolding(db, needles)).toEqual([]);
  });
});
