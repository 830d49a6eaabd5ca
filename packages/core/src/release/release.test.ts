import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { isolatedTestDeps, itemSize, recomputeAggregate } from '@rapport/testing';
import type { Db } from '../db/client';
import { keys, ROWS_DUE_PARTITION } from '../db/keys';
import { queryAll } from '../db/page';
import { createAgency, getAgency, updateSettings } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign, type Campaign } from '../campaign/campaign';
import { closeRound } from '../jobs/expiry';
import { listResponses } from '../responses/listing';
import { proScores } from '../scores/report';
import { holdsCounts } from '../scores/counters';
import { addDays, iso } from '../shared/time';
import { addressHash } from '../survey/address';
import type { Audience } from '../survey/instrument';
import { cancelRound, createRound, type Invitation, type Round } from '../survey/round';
import { isTestimonial, openInvitation, submitResponse, SurveyClosedError, type Answers } from '../survey/response';
import { responseOf } from '../survey/response-item';
import { poolBatchId, roundBatchId, ROW_KEY, type ReleaseBatch } from './batch';
import { transitionInvitation } from '../sending/transition';
import { batchesReleased, finishReleases, releaseOf, releasePool } from './release';

/**
 * Releasing anonymous answers in batches, on the real engine. `finishReleases` sweeps the whole
 * rows-due index, so the file has a table of its own; each test has its own agency.
 */
let db: Db;
beforeAll(async () => {
  ({ db } = await isolatedTestDeps());
});
afterAll(() => db.client.destroy());

const T0 = new Date('2030-01-10T09:00:00.000Z');
const hours = (at: Date, h: number) => new Date(at.getTime() + h * 3_600_000);
/** A moment just after the round's close time: what the scheduled job would pass. */
const afterClose = (round: Round) => new Date(new Date(round.closesAt).getTime() + 60_000);

let n = 0;
async function agencyFixture(k: number, timezone = 'UTC') {
  const tag = `${++n}-${Date.now()}`;
  const created = await createAgency(db, { name: `Release ${tag}`, timezone }, T0);
  await updateSettings(db, created.agencyId, { anonymityThreshold: k }, T0);
  const agencyId = created.agencyId;
  const pro = await createPro(db, agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, T0);
  const campaigns: Campaign[] = [];
  for (const name of ['Spring Launch', 'Autumn Tour']) campaigns.push(await createCampaign(db, agencyId, { proId: pro.proId, name }, T0));
  return { agencyId, proId: pro.proId, campaigns, tag };
}
type Fixture = Awaited<ReturnType<typeof agencyFixture>>;

let r = 0;
/** An anonymous (or named) round with `counts[audience]` recipients of each audience. */
async function roundFor(fx: Fixture, counts: Partial<Record<Audience, number>>, at: Date, options: { campaign?: Campaign; attribution?: 'anonymous' | 'named' } = {}) {
  const tag = ++r;
  const recipients = Object.entries(counts).flatMap(([audience, count]) =>
    Array.from({ length: count }, (_, i) => ({ email: `${audience}${i}-r${tag}-${fx.tag}@news.example`, audience })),
  );
  const { round, accepted } = await createRound(db, fx.agencyId, (options.campaign ?? fx.campaigns[0]!).campaignId, { recipients, attribution: options.attribution ?? 'anonymous' }, at);
  expect(accepted).toHaveLength(recipients.length);
  const of = (audience: Audience) => accepted.filter((i) => i.audience === audience);
  return { round, of };
}

/** Submits each answer to the matching invitation, one after another. */
async function answer(invitations: Invitation[], answers: object[], at: Date) {
  for (const [i, a] of answers.entries()) await submitResponse(db, invitations[i]!, a, at);
}

async function all(query: Parameters<typeof queryAll>[1]): Promise<Record<string, unknown>[]> {
  const found: Record<string, unknown>[] = [];
  for await (const items of queryAll(db, query)) found.push(...items);
  return found;
}
const partition = (pk: string) => all({ KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true });
const getItem = async (key: { PK: string; SK: string }) => (await db.doc.send(new GetCommand({ TableName: db.table, Key: key, ConsistentRead: true }))).Item;

/** A round's stored answers (raw items, keys included). */
const rowsOf = async (roundId: string) => (await partition(keys.round(roundId).PK)).filter((i) => i.type === 'response');
const testimonials = (agencyId: string) => partition(keys.testimonial(agencyId, '').PK);
const rowsDue = () => all({ IndexName: 'GSI2', KeyConditionExpression: 'GSI2PK = :pk', ExpressionAttributeValues: { ':pk': ROWS_DUE_PARTITION } });
const batches = (fx: Fixture) => batchesReleased(db, fx.agencyId, fx.proId, '0', '~');

/** Every counter item of the fixture, by a readable name, without its keys. */
async function counters(fx: Fixture): Promise<Record<string, Record<string, unknown>>> {
  const found: Record<string, Record<string, unknown>> = {};
  const strip = ({ PK: _pk, SK: _sk, type: _type, GSI2PK: _g2pk, GSI2SK: _g2sk, ...rest }: Record<string, unknown>) => rest;
  // Less the pro counter a round's creation puts in the scores index holding nothing (`openRoundWrites`).
  for (const item of (await partition(keys.proCounter(fx.agencyId, fx.proId, '', '').PK)).filter(holdsCounts)) found[`pro ${item.SK}`] = strip(item);
  for (const item of await partition(keys.agencyCounter(fx.agencyId, '', '').PK)) found[`agency ${item.SK}`] = strip(item);
  for (const [i, c] of fx.campaigns.entries()) {
    for (const item of await partition(keys.campaignCounter(fx.agencyId, c.campaignId, '').PK)) found[`campaign${i} ${item.SK}`] = strip(item);
  }
  return found;
}

/**
 * What `n` anonymous answers add to the counters when given: nothing. Counters move only with
 * releases and deliveries (these invitations are never sent), so the response rate cannot tell
 * when an answer arrived.
 */
const onSubmit = (_n: number): Record<string, number> => ({});
/** Expected counter items, leaving out those that would hold nothing (they are never written). */
const expectCounters = (expected: Record<string, Record<string, number>>) =>
  Object.fromEntries(Object.entries(expected).filter(([, attributes]) => Object.keys(attributes).length > 0));


/**
 * Batch sources (no `k`) and pool members (with their round's k and who answered, as the hash of
 * the address) in the order they are stored: each round's answers by invitation id.
 */
const refsOf = (invitations: Invitation[], k?: number) =>
  [...invitations]
    .sort((x, y) => (x.invitationId < y.invitationId ? -1 : 1))
    .map((i) => ({ roundId: i.roundId, invitationId: i.invitationId, ...(k === undefined ? {} : { k, who: addressHash(i.email) }) }));

const promoter = (responsiveness: number, improve: string) => ({ responsiveness, recommend: 10, improve, quoteConsent: true });

/**
 * A Db whose process "dies" at the `from`-th send that `matches`: that send and every later
 * matching one throw, as if the process had crashed there; others go through. `settled()` waits for
 * what was already in flight (concurrent workers carry on after the first throw).
 */
function dyingDb(real: Db, matches: (command: unknown) => boolean, from: number) {
  let seen = 0;
  const inFlight = new Set<Promise<unknown>>();
  const send = (command: unknown) => {
    if (matches(command) && ++seen >= from) return Promise.reject(new Error('injected fault'));
    const sent = (real.doc.send as (c: unknown) => Promise<unknown>)(command);
    inFlight.add(sent);
    void sent.finally(() => inFlight.delete(sent)).catch(() => undefined);
    return sent;
  };
  const doc = new Proxy(real.doc, { get: (target, prop, receiver) => (prop === 'send' ? send : Reflect.get(target, prop, receiver)) });
  const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
  return {
    db: { ...real, doc } as Db,
    async settled() {
      for (let quiet = 0; quiet < 3; ) {
        if (inFlight.size) {
          quiet = 0;
          await Promise.allSettled([...inFlight]);
        } else quiet++;
        await sleep(20);
      }
    },
  };
}
/** A Db whose every send goes through `around` (which decides when, and whether, to call the real one). */
function hooked(real: Db, around: (command: unknown, send: (command: unknown) => Promise<unknown>) => Promise<unknown>): Db {
  const send = (command: unknown) => (real.doc.send as (c: unknown) => Promise<unknown>)(command);
  return { ...real, doc: new Proxy(real.doc, { get: (target, prop, receiver) => (prop === 'send' ? (command: unknown) => around(command, send) : Reflect.get(target, prop, receiver)) }) };
}
const marksRow = (command: unknown) => command instanceof UpdateCommand && String(command.input.UpdateExpression).includes('SET #release');
/** An answer's write: its transaction, or the one update that holds an anonymous first answer on its invitation. */
const isAnswerWrite = (command: unknown) =>
  command instanceof TransactWriteCommand || (command instanceof UpdateCommand && String(command.input.UpdateExpression).includes('heldAnswer = :answer'));
const emptiesPool = (command: unknown) =>
  command instanceof TransactWriteCommand && (command.input.TransactItems ?? []).some((t) => String(t.Update?.UpdateExpression).startsWith('SET #members = :empty'));

describe('releasing a round', () => {
  it('turns a group of at least k into one batch of the round; its rows get the batch, testimonials come only with the release', async () => {
    const fx = await agencyFixture(3);
    const { round, of } = await roundFor(fx, { reporter: 4, colleague: 2 }, T0);
    const reporterAnswers = [
      { responsiveness: 5, recommend: 10, listening: 4, improve: 'Keep it up', quoteConsent: true },
      { responsiveness: 4, recommend: 9, listening: 5, improve: 'Call sooner', quoteConsent: true },
      { responsiveness: 2, recommend: 9, improve: 'More notice', quoteConsent: false },
      { responsiveness: 3, recommend: 6, listening: 3, relevance: 4 },
    ];
    await answer(of('reporter'), reporterAnswers, hours(T0, 1));
    await answer(of('colleague'), [{ responsiveness: 1 }, { responsiveness: 2 }], hours(T0, 1));

    // Open: nothing is counted, released or quoted.
    expect(await counters(fx)).toEqual(expectCounters({
      'pro 2030-01#reporter': onSubmit(4),
      'pro 2030-01#colleague': onSubmit(2),
      'agency 2030-01#reporter': onSubmit(4),
      'agency 2030-01#colleague': onSubmit(2),
      'campaign0 reporter': onSubmit(4),
      'campaign0 colleague': onSubmit(2),
    }));
    expect(await batches(fx)).toEqual([]);
    expect(await testimonials(fx.agencyId)).toEqual([]);
    for (const row of await rowsOf(round.roundId)) expect(Object.keys(row).filter((a) => a === 'release' || a.startsWith('GSI'))).toEqual([]);

    const closedAt = afterClose(round);
    expect(await closeRound(db, round.roundId, closedAt)).toBe(true);

    const batchId = roundBatchId(round.roundId, 'reporter');
    // Relevance was given by one reporter (< k): it adds nothing.
    const aggregate = {
      i_responsiveness_n: 4, i_responsiveness_s: 14, i_responsiveness_q: 54, i_responsiveness_h5: 1, i_responsiveness_h4: 1, i_responsiveness_h2: 1, i_responsiveness_h3: 1,
      i_recommend_n: 4, i_recommend_s: 34, i_recommend_q: 298, i_recommend_h10: 1, i_recommend_h9: 2, i_recommend_h6: 1,
      i_listening_n: 3, i_listening_s: 12, i_listening_q: 50, i_listening_h4: 1, i_listening_h5: 1, i_listening_h3: 1,
    };
    const batch: ReleaseBatch = {
      batchId,
      agencyId: fx.agencyId,
      proId: fx.proId,
      audience: 'reporter',
      attribution: 'anonymous',
      campaignId: round.campaignId,
      campaignName: 'Spring Launch',
      period: '2030-01',
      releasedAt: iso(closedAt),
      k: 3,
      size: 4,
      aggregate,
      source: { roundId: round.roundId },
    };
    // The record is in the pro's batch index and, its rows all marked, out of the rows-due index.
    expect(await getItem(keys.batch(batchId))).toEqual({ ...keys.batch(batchId), ...keys.batchByPro(fx.agencyId, fx.proId, iso(closedAt), batchId), type: 'batch', ...batch });
    expect(await batches(fx)).toEqual([batch]);
    expect(await rowsDue()).toEqual([]);

    expect(await counters(fx)).toEqual(expectCounters({
      'pro 2030-01#reporter': { ...onSubmit(4), ...aggregate },
      'pro 2030-01#colleague': onSubmit(2),
      'agency 2030-01#reporter': { ...onSubmit(4), ...aggregate },
      'agency 2030-01#colleague': onSubmit(2),
      'campaign0 reporter': { ...onSubmit(4), ...aggregate },
      'campaign0 colleague': onSubmit(2),
    }));

    const rows = await rowsOf(round.roundId);
    const reporterRows = rows.filter((row) => row.audience === 'reporter');
    expect(reporterRows).toHaveLength(4);
    // Stored without the campaign and month it shares with its row, so the row stays within 1 KB
    // (one write unit in the table and in each index); read back whole.
    const { campaignId: _campaign, campaignName: _name, period: _period, ...own } = releaseOf(batch);
    for (const row of reporterRows) {
      const release = row.release as { rowKey: string };
      expect(release).toEqual({ ...own, rowKey: release.rowKey });
      expect(responseOf(row).release).toEqual({ ...releaseOf(batch), rowKey: release.rowKey });
      expect(itemSize(marshall(row))).toBeLessThanOrEqual(1024);
      expect(release.rowKey).toMatch(ROW_KEY);
      expect(release.rowKey.startsWith(`${iso(closedAt)}#${batchId}#`)).toBe(true);
      expect(row).toMatchObject({ ...keys.releasedByAgency(fx.agencyId, release.rowKey), ...keys.releasedByPro(fx.agencyId, fx.proId, release.rowKey) });
    }
    expect(new Set(reporterRows.map((row) => (row.release as { rowKey: string }).rowKey)).size).toBe(4);
    // The colleagues (2 < k) went to the pool: not released, not listed.
    for (const row of rows.filter((x) => x.audience === 'colleague')) expect(row).not.toHaveProperty('release');
    expect(await getItem(keys.pool(fx.agencyId, fx.proId, 'colleague'))).toEqual({
      ...keys.pool(fx.agencyId, fx.proId, 'colleague'),
      type: 'pool',
      size: 2,
      members: refsOf(of('colleague'), 3),
    });
    expect(await getItem(keys.round(round.roundId))).toMatchObject({ status: 'closed', released_reporter: batchId, released_colleague: 'pool' });
    expect(await getItem(keys.round(round.roundId))).not.toHaveProperty('GSI1PK');

    // The two quotable promoters, each at its row's place.
    const quotable = reporterRows.filter((row) => isTestimonial(row.answers as Answers));
    expect(quotable.map((row) => (row.answers as Answers).improve).sort()).toEqual(['Call sooner', 'Keep it up']);
    const stored = await testimonials(fx.agencyId);
    expect(stored.map((t) => t.SK).sort()).toEqual(quotable.map((row) => (row.release as { rowKey: string }).rowKey).sort());
    expect(stored.map((t) => t.invitationId).sort()).toEqual(quotable.map((row) => row.invitationId).sort());
  });

  it('pools a group below k, counting and listing nothing, and releases the pool as one batch of the release month once a later round brings it to k', async () => {
    // Auckland: 2030-02-28T11:30Z is already March there.
    const fx = await agencyFixture(3, 'Pacific/Auckland');
    const a = await roundFor(fx, { reporter: 2 }, T0);
    await answer(a.of('reporter'), [promoter(5, 'Great'), { responsiveness: 4, recommend: 8 }], hours(T0, 1));
    await closeRound(db, a.round.roundId, afterClose(a.round));

    const poolKey = keys.pool(fx.agencyId, fx.proId, 'reporter');
    expect(await getItem(poolKey)).toEqual({ ...poolKey, type: 'pool', size: 2, members: refsOf(a.of('reporter'), 3) });
    expect(await batches(fx)).toEqual([]);
    expect(await counters(fx)).toEqual(expectCounters({
      'pro 2030-01#reporter': onSubmit(2),
      'agency 2030-01#reporter': onSubmit(2),
      'campaign0 reporter': onSubmit(2),
    }));
    expect((await listResponses(db, fx.agencyId, {}, { limit: 100 })).items).toEqual([]);
    expect(await testimonials(fx.agencyId)).toEqual([]);

    const startB = new Date('2030-02-10T09:00:00.000Z');
    const b = await roundFor(fx, { reporter: 1 }, startB, { campaign: fx.campaigns[1] });
    expect(b.round.period).toBe('2030-02');
    await answer(b.of('reporter'), [{ responsiveness: 2, recommend: 3, listening: 2 }], hours(startB, 1));
    const releasedAt = new Date('2030-02-28T11:30:00.000Z');
    expect(await closeRound(db, b.round.roundId, releasedAt)).toBe(true);

    const batchId = poolBatchId(fx.agencyId, fx.proId, 'reporter', 0);
    const aggregate = recomputeAggregate([promoter(5, 'Great'), { responsiveness: 4, recommend: 8 }, { responsiveness: 2, recommend: 3, listening: 2 }] as Answers[], 3);
    expect(aggregate).toEqual({
      i_responsiveness_n: 3, i_responsiveness_s: 11, i_responsiveness_q: 45, i_responsiveness_h5: 1, i_responsiveness_h4: 1, i_responsiveness_h2: 1,
      i_recommend_n: 3, i_recommend_s: 21, i_recommend_q: 173, i_recommend_h10: 1, i_recommend_h8: 1, i_recommend_h3: 1,
    });
    const batch: ReleaseBatch = {
      batchId,
      agencyId: fx.agencyId,
      proId: fx.proId,
      audience: 'reporter',
      attribution: 'anonymous',
      campaignId: null,
      campaignName: null,
      period: '2030-03',
      releasedAt: iso(releasedAt),
      k: 3,
      size: 3,
      aggregate,
      source: { members: [...refsOf(a.of('reporter')), ...refsOf(b.of('reporter'))] },
    };
    expect(await batches(fx)).toEqual([batch]);
    expect(await getItem(poolKey)).toEqual({ ...poolKey, type: 'pool', size: 0, members: [], seq: 1 });
    // Scores count in the release month, in no campaign.
    expect(await counters(fx)).toEqual(expectCounters({
      'pro 2030-01#reporter': onSubmit(2),
      'pro 2030-02#reporter': onSubmit(1),
      'pro 2030-03#reporter': aggregate,
      'agency 2030-01#reporter': onSubmit(2),
      'agency 2030-02#reporter': onSubmit(1),
      'agency 2030-03#reporter': aggregate,
      'campaign0 reporter': onSubmit(2),
      'campaign1 reporter': onSubmit(1),
    }));
    const rows = [...(await rowsOf(a.round.roundId)), ...(await rowsOf(b.round.roundId))];
    for (const row of rows) expect(row.release).toEqual({ ...releaseOf(batch), rowKey: (row.release as { rowKey: string }).rowKey });
    const listed = (await listResponses(db, fx.agencyId, {}, { limit: 100 })).items;
    expect(listed.map((x) => [x.batchId, x.campaignId, x.period, x.invitationId, x.surveyId])).toEqual(Array.from({ length: 3 }, () => [batchId, null, '2030-03', null, null]));
    expect((await testimonials(fx.agencyId)).map((t) => t.invitationId)).toEqual([a.of('reporter')[0]!.invitationId]);
    expect(await rowsDue()).toEqual([]);
    // Nothing left to release.
    expect(await releasePool(db, await getAgency(db, fx.agencyId), fx.proId, 'reporter', addDays(releasedAt, 1))).toBe(0);
    expect(await batches(fx)).toHaveLength(1);
  });

  it('counts a person who answered several small rounds once towards the pool', async () => {
    const fx = await agencyFixture(3);
    // No throttle, so one reporter can be surveyed by each campaign's round.
    await updateSettings(db, fx.agencyId, { throttle: { reporterDays: 0, minHoursBetweenSurveys: 0 } }, T0);
    const same = `same-${fx.tag}@news.example`;
    const roundOf = async (campaign: Campaign, emails: string[], at: Date) => {
      const { round, accepted } = await createRound(db, fx.agencyId, campaign.campaignId, { recipients: emails.map((email) => ({ email, audience: 'reporter' })) }, at);
      expect(accepted).toHaveLength(emails.length);
      await answer(accepted, emails.map((_, i) => ({ responsiveness: 5 - i })), hours(at, 1));
      await closeRound(db, round.roundId, afterClose(round));
      return accepted;
    };
    const a = await roundOf(fx.campaigns[0]!, [same, `other-${fx.tag}@news.example`], T0);
    const b = await roundOf(fx.campaigns[1]!, [same], addDays(T0, 1));
    // Three answers in the pool, but from two people: not released.
    const poolKey = keys.pool(fx.agencyId, fx.proId, 'reporter');
    expect(await getItem(poolKey)).toMatchObject({ size: 3, members: [...refsOf(a, 3), ...refsOf(b, 3)] });
    expect(await batches(fx)).toEqual([]);
    expect(await counters(fx)).toEqual({});

    // A third person: released, with all four answers.
    const c = await roundOf(fx.campaigns[0]!, [`third-${fx.tag}@news.example`], addDays(T0, 2));
    const released = await batches(fx);
    expect(released.map((x) => [x.batchId, x.k, x.size, x.source])).toEqual([
      [poolBatchId(fx.agencyId, fx.proId, 'reporter', 0), 3, 4, { members: [...refsOf(a), ...refsOf(b), ...refsOf(c)] }],
    ]);
    expect(released[0]!.aggregate).toEqual(recomputeAggregate([{ responsiveness: 5 }, { responsiveness: 4 }, { responsiveness: 5 }, { responsiveness: 5 }] as Answers[], 3));
    expect(await getItem(poolKey)).toMatchObject({ size: 0, members: [], seq: 1 });
  });

  it('applies the per-item rule: recommend given by fewer than k adds nothing for recommend anywhere', async () => {
    const fx = await agencyFixture(3);
    const { round, of } = await roundFor(fx, { reporter: 4 }, T0);
    const answers = [
      { responsiveness: 4, recommend: 10, listening: 4 },
      { responsiveness: 5, recommend: 0, listening: 5 },
      { responsiveness: 3, listening: 2 },
      { responsiveness: 2 },
    ];
    await answer(of('reporter'), answers, hours(T0, 1));
    await closeRound(db, round.roundId, afterClose(round));
    const aggregate = {
      i_responsiveness_n: 4, i_responsiveness_s: 14, i_responsiveness_q: 54, i_responsiveness_h4: 1, i_responsiveness_h5: 1, i_responsiveness_h3: 1, i_responsiveness_h2: 1,
      i_listening_n: 3, i_listening_s: 11, i_listening_q: 45, i_listening_h4: 1, i_listening_h5: 1, i_listening_h2: 1,
    };
    expect((await batches(fx)).map((b) => [b.size, b.aggregate])).toEqual([[4, aggregate]]);
    const all = await counters(fx);
    expect(Object.keys(all).sort()).toEqual(['agency 2030-01#reporter', 'campaign0 reporter', 'pro 2030-01#reporter']);
    for (const counter of Object.values(all)) expect(counter).toEqual({ ...onSubmit(4), ...aggregate });
    const scores = await proScores(db, fx.agencyId, fx.proId, { from: '2030-01', to: '2030-01' }, T0);
    expect(Object.keys(scores.periods[0]!.total.items).sort()).toEqual(['listening', 'responsiveness']);
    // The rows are still listed with their answers: the rule is about figures, not rows.
    expect((await rowsOf(round.roundId)).every((row) => row.release !== undefined)).toBe(true);
  });
});

describe('exactly once', () => {
  it('closing the same round twice releases its batch once', async () => {
    const fx = await agencyFixture(3);
    const { round, of } = await roundFor(fx, { client: 3 }, T0);
    await answer(of('client'), [promoter(5, 'Sharp'), { responsiveness: 4 }, { responsiveness: 3, clarity: 2 }], hours(T0, 1));
    expect(await closeRound(db, round.roundId, afterClose(round))).toBe(true);
    const before = { counters: await counters(fx), rows: await rowsOf(round.roundId), batches: await batches(fx), testimonials: await testimonials(fx.agencyId) };
    expect(before.counters['pro 2030-01#client']).toEqual({ ...onSubmit(3), ...recomputeAggregate([promoter(5, 'Sharp'), { responsiveness: 4 }, { responsiveness: 3, clarity: 2 }] as Answers[], 3) });

    expect(await closeRound(db, round.roundId, addDays(afterClose(round), 1))).toBe(false); // closed already: nothing to do
    expect({ counters: await counters(fx), rows: await rowsOf(round.roundId), batches: await batches(fx), testimonials: await testimonials(fx.agencyId) }).toEqual(before);
  });

  it('two concurrent closes release the round batch and the pooled batch once each', async () => {
    const fx = await agencyFixture(3);
    // Two colleagues wait in the pool; the round below brings a third.
    const first = await roundFor(fx, { colleague: 2 }, T0);
    const pooled = [{ responsiveness: 5, recommend: 9 }, { responsiveness: 4, recommend: 9, improve: 'More', quoteConsent: true }];
    await answer(first.of('colleague'), pooled, hours(T0, 1));
    await closeRound(db, first.round.roundId, afterClose(first.round));

    const { round, of } = await roundFor(fx, { reporter: 3, colleague: 1 }, addDays(T0, 3));
    const reporters = [promoter(5, 'A'), promoter(4, 'B'), { responsiveness: 1, recommend: 2 }];
    await answer(of('reporter'), reporters, addDays(T0, 4));
    await answer(of('colleague'), [{ responsiveness: 2, recommend: 9, anticipation: 3 }], addDays(T0, 4));

    const at = afterClose(round);
    expect(await Promise.all([closeRound(db, round.roundId, at), closeRound(db, round.roundId, at)])).toEqual([true, true]);

    const reporterAggregate = recomputeAggregate(reporters as Answers[], 3);
    const colleagueAggregate = recomputeAggregate([...pooled, { responsiveness: 2, recommend: 9, anticipation: 3 }] as Answers[], 3);
    const released = await batches(fx);
    expect(released.map((b) => [b.batchId, b.size, b.aggregate, b.source]).sort()).toEqual(
      [
        [roundBatchId(round.roundId, 'reporter'), 3, reporterAggregate, { roundId: round.roundId }],
        [poolBatchId(fx.agencyId, fx.proId, 'colleague', 0), 3, colleagueAggregate, { members: [...refsOf(first.of('colleague')), ...refsOf(of('colleague'))] }],
      ].sort(),
    );
    expect(await counters(fx)).toEqual(expectCounters({
      'pro 2030-01#reporter': { ...onSubmit(3), ...reporterAggregate },
      'pro 2030-01#colleague': { ...onSubmit(3), ...colleagueAggregate },
      'agency 2030-01#reporter': { ...onSubmit(3), ...reporterAggregate },
      'agency 2030-01#colleague': { ...onSubmit(3), ...colleagueAggregate },
      'campaign0 reporter': { ...onSubmit(3), ...reporterAggregate },
      'campaign0 colleague': onSubmit(3),
    }));
    const rows = [...(await rowsOf(first.round.roundId)), ...(await rowsOf(round.roundId))];
    expect(rows).toHaveLength(6);
    for (const row of rows) expect((row.release as { rowKey: string }).rowKey).toBe(row.GSI1SK);
    // One testimonial per quotable row, at that row's place.
    const quotable = rows.filter((row) => isTestimonial(row.answers as Answers));
    expect(quotable).toHaveLength(3);
    expect((await testimonials(fx.agencyId)).map((t) => t.SK).sort()).toEqual(quotable.map((row) => row.GSI1SK).sort());
    expect(await rowsDue()).toEqual([]);
  });

  it('two concurrent releasePool calls release a full pool once (a fault is injected so a close leaves it full)', async () => {
    const fx = await agencyFixture(3);
    const a = await roundFor(fx, { client: 2 }, T0);
    await answer(a.of('client'), [{ responsiveness: 5, recommend: 7 }, { responsiveness: 3, recommend: 9 }], hours(T0, 1));
    await closeRound(db, a.round.roundId, afterClose(a.round));
    const b = await roundFor(fx, { client: 2 }, addDays(T0, 2));
    await answer(b.of('client'), [{ responsiveness: 1, recommend: 0 }, { responsiveness: 2 }], addDays(T0, 3));

    // The close dies at the transaction that would release the pool: the pool holds 4 ≥ k, unreleased.
    const dying = dyingDb(db, emptiesPool, 1);
    await expect(closeRound(dying.db, b.round.roundId, afterClose(b.round))).rejects.toThrow('injected fault');
    await dying.settled();
    const poolKey = keys.pool(fx.agencyId, fx.proId, 'client');
    expect(await getItem(poolKey)).toMatchObject({ size: 4 });
    expect(await batches(fx)).toEqual([]);

    const agency = await getAgency(db, fx.agencyId);
    const at = afterClose(b.round);
    expect((await Promise.all([releasePool(db, agency, fx.proId, 'client', at), releasePool(db, agency, fx.proId, 'client', at)])).sort()).toEqual([0, 1]);

    const aggregate = recomputeAggregate([{ responsiveness: 5, recommend: 7 }, { responsiveness: 3, recommend: 9 }, { responsiveness: 1, recommend: 0 }, { responsiveness: 2 }] as Answers[], 3);
    expect((await batches(fx)).map((x) => [x.batchId, x.size, x.aggregate])).toEqual([[poolBatchId(fx.agencyId, fx.proId, 'client', 0), 4, aggregate]]);
    expect(await counters(fx)).toEqual(expectCounters({
      'pro 2030-01#client': { ...onSubmit(4), ...aggregate },
      'agency 2030-01#client': { ...onSubmit(4), ...aggregate },
      'campaign0 client': onSubmit(4),
    }));
    expect(await getItem(poolKey)).toEqual({ ...poolKey, type: 'pool', size: 0, members: [], seq: 1 });
    // The next run closes the round again: nothing more is released.
    await closeRound(db, b.round.roundId, addDays(at, 1));
    expect(await batches(fx)).toHaveLength(1);
    expect((await counters(fx))['pro 2030-01#client']).toEqual({ ...onSubmit(4), ...aggregate });
  });
});

describe('the k a round is released under', () => {
  it("lowering the agency's k after the round began does not lower it: the round's snapshot wins, in the pool too", async () => {
    const fx = await agencyFixture(5);
    const { round, of } = await roundFor(fx, { reporter: 4 }, T0);
    expect(round.anonymityThreshold).toBe(5);
    await updateSettings(db, fx.agencyId, { anonymityThreshold: 3 }, hours(T0, 2));
    const answers = Array.from({ length: 4 }, (_, i) => ({ responsiveness: i + 1, recommend: 8 }));
    await answer(of('reporter'), answers, hours(T0, 3));
    await closeRound(db, round.roundId, afterClose(round));

    // 4 ≥ the agency's 3 but < the promised 5: pooled, with the promise.
    expect(await batches(fx)).toEqual([]);
    expect((await getItem(keys.pool(fx.agencyId, fx.proId, 'reporter')))!.members).toEqual(refsOf(of('reporter'), 5));
    expect(await counters(fx)).toEqual(expectCounters({
      'pro 2030-01#reporter': onSubmit(4),
      'agency 2030-01#reporter': onSubmit(4),
      'campaign0 reporter': onSubmit(4),
    }));

    // A later round (promising 3) adds one: 5 in the pool, released under 5.
    const later = await roundFor(fx, { reporter: 1 }, addDays(T0, 2));
    expect(later.round.anonymityThreshold).toBe(3);
    await answer(later.of('reporter'), [{ responsiveness: 5 }], addDays(T0, 3));
    await closeRound(db, later.round.roundId, afterClose(later.round));
    const released = await batches(fx);
    expect(released.map((b) => [b.k, b.size])).toEqual([[5, 5]]);
    // Recommend was given by 4 of the 5: below the batch's k, so it adds nothing.
    expect(released[0]!.aggregate).toEqual(recomputeAggregate([...answers, { responsiveness: 5 }] as Answers[], 5));
    expect(released[0]!.aggregate).not.toHaveProperty('i_recommend_n');
  });

  it("raising the agency's k after the round began applies", async () => {
    const fx = await agencyFixture(3);
    const { round, of } = await roundFor(fx, { reporter: 3, client: 4 }, T0);
    expect(round.anonymityThreshold).toBe(3);
    await updateSettings(db, fx.agencyId, { anonymityThreshold: 4 }, hours(T0, 2));
    await answer(of('reporter'), [{ responsiveness: 5 }, { responsiveness: 4 }, { responsiveness: 3 }], hours(T0, 3));
    const clients = [{ responsiveness: 2 }, { responsiveness: 3 }, { responsiveness: 4 }, { responsiveness: 5 }];
    await answer(of('client'), clients, hours(T0, 3));
    await closeRound(db, round.roundId, afterClose(round));

    // Three reporters meet the promised 3 but not the agency's 4 now: pooled, under 4.
    expect((await batches(fx)).map((b) => [b.audience, b.k, b.size, b.aggregate])).toEqual([['client', 4, 4, recomputeAggregate(clients as Answers[], 4)]]);
    expect(((await getItem(keys.pool(fx.agencyId, fx.proId, 'reporter')))!.members as { k: number }[]).map((m) => m.k)).toEqual([4, 4, 4]);
    const clientAggregate = recomputeAggregate(clients as Answers[], 4);
    expect(await counters(fx)).toEqual(expectCounters({
      'pro 2030-01#reporter': onSubmit(3),
      'pro 2030-01#client': { ...onSubmit(4), ...clientAggregate },
      'agency 2030-01#reporter': onSubmit(3),
      'agency 2030-01#client': { ...onSubmit(4), ...clientAggregate },
      'campaign0 reporter': onSubmit(3),
      'campaign0 client': { ...onSubmit(4), ...clientAggregate },
    }));
  });
});

describe('a crash between two writes', () => {
  it('a fault injected while marking rows leaves the batch counted and in the rows-due index; finishReleases marks every row once', async () => {
    const fx = await agencyFixture(3);
    const { round, of } = await roundFor(fx, { reporter: 5 }, T0);
    const answers = [promoter(5, 'One'), promoter(4, 'Two'), promoter(3, 'Three'), { responsiveness: 2, recommend: 4 }, { responsiveness: 1 }];
    await answer(of('reporter'), answers, hours(T0, 1));
    const aggregate = recomputeAggregate(answers as Answers[], 3);

    // The process dies at the second row update: the release transaction has committed.
    const dying = dyingDb(db, marksRow, 2);
    await expect(closeRound(dying.db, round.roundId, afterClose(round))).rejects.toThrow('injected fault');
    await dying.settled();

    const batchId = roundBatchId(round.roundId, 'reporter');
    const expectedCounters = expectCounters({
      'pro 2030-01#reporter': { ...onSubmit(5), ...aggregate },
      'agency 2030-01#reporter': { ...onSubmit(5), ...aggregate },
      'campaign0 reporter': { ...onSubmit(5), ...aggregate },
    });
    expect(await counters(fx)).toEqual(expectedCounters);
    // Exactly the first row update went through (the other workers died with the process).
    const half = await rowsOf(round.roundId);
    const marked = half.filter((row) => row.release !== undefined);
    expect(marked).toHaveLength(1);
    expect((await rowsDue()).map((x) => x.batchId)).toEqual([batchId]);
    // The round stays in the close index: the next run comes back to it.
    expect(await getItem(keys.round(round.roundId))).toMatchObject({ status: 'closed', released_reporter: batchId, GSI1PK: 'DUE#CLOSE' });

    expect(await finishReleases(db)).toBe(1);

    const rows = await rowsOf(round.roundId);
    expect(rows).toHaveLength(5);
    const batch = (await batches(fx))[0]!;
    for (const row of rows) {
      const release = row.release as { rowKey: string };
      expect(responseOf(row).release).toEqual({ ...releaseOf(batch), rowKey: release.rowKey });
      expect([row.GSI1SK, row.GSI2SK]).toEqual([release.rowKey, release.rowKey]);
    }
    // The row marked before the crash kept its place.
    expect(rows.find((row) => row.invitationId === marked[0]!.invitationId)!.release).toEqual(marked[0]!.release);
    expect(new Set(rows.map((row) => (row.release as { rowKey: string }).rowKey)).size).toBe(5);
    const quotable = rows.filter((row) => isTestimonial(row.answers as Answers));
    expect(quotable).toHaveLength(3);
    expect((await testimonials(fx.agencyId)).map((t) => t.SK).sort()).toEqual(quotable.map((row) => row.GSI1SK).sort());
    expect(await counters(fx)).toEqual(expectedCounters);
    expect(await rowsDue()).toEqual([]);
    expect(await getItem(keys.batch(batchId))).not.toHaveProperty('GSI2PK');

    // Finishing again, and the next close, change nothing.
    expect(await finishReleases(db)).toBe(0);
    expect(await closeRound(db, round.roundId, addDays(afterClose(round), 1))).toBe(true);
    expect(await counters(fx)).toEqual(expectedCounters);
    expect(await rowsOf(round.roundId)).toEqual(rows);
    expect(await testimonials(fx.agencyId)).toHaveLength(3);
    expect(await getItem(keys.round(round.roundId))).not.toHaveProperty('GSI1PK');
  });
});

describe('finishing while a close is still marking', () => {
  it('finishReleases racing a slow close: every row keeps one place and one testimonial', async () => {
    const fx = await agencyFixture(3);
    const { round, of } = await roundFor(fx, { reporter: 3 }, T0);
    const answers = [promoter(5, 'One'), promoter(4, 'Two'), promoter(3, 'Three')];
    await answer(of('reporter'), answers, hours(T0, 1));

    // The close's first row update is held after the release committed (a slow process); the
    // scheduled job finishes the batch meanwhile, then the held update goes out.
    let open!: () => void;
    const gate = new Promise<void>((done) => (open = done));
    let reached!: () => void;
    const held = new Promise<void>((done) => (reached = done));
    let updates = 0;
    const slow = hooked(db, async (command, send) => {
      if (marksRow(command) && updates++ === 0) {
        reached();
        await gate;
      }
      return send(command);
    });
    const closing = closeRound(slow, round.roundId, afterClose(round));
    await held;
    expect(await finishReleases(db)).toBe(1);
    const finished = await rowsOf(round.roundId);
    open();
    expect(await closing).toBe(true);

    // The held update found its row marked and changed nothing.
    const rows = await rowsOf(round.roundId);
    expect(rows).toEqual(finished);
    expect(rows.every((row) => row.release !== undefined && row.GSI1SK === (row.release as { rowKey: string }).rowKey)).toBe(true);
    expect((await testimonials(fx.agencyId)).map((t) => t.SK).sort()).toEqual(rows.map((row) => row.GSI1SK).sort());
    const aggregate = recomputeAggregate(answers as Answers[], 3);
    expect(await counters(fx)).toEqual(expectCounters({ 'pro 2030-01#reporter': aggregate, 'agency 2030-01#reporter': aggregate, 'campaign0 reporter': aggregate }));
    expect(await rowsDue()).toEqual([]);
  });
});

describe('answers after the close began', () => {
  it('refuses a first answer and a revision that reach the table once the close has begun, and never counts them', async () => {
    const fx = await agencyFixture(3);
    const { round, of } = await roundFor(fx, { reporter: 4 }, T0);
    const [i0, i1, i2, late] = of('reporter') as [Invitation, Invitation, Invitation, Invitation];
    const kept = [{ responsiveness: 2, recommend: 3 }, { responsiveness: 3 }, { responsiveness: 4 }];
    await answer([i0, i1, i2], kept, hours(T0, 1));
    const closedAt = afterClose(round);

    // Both are given before closesAt by the respondent's clock: only the closed round refuses them.
    const beforeCloseTime = addDays(T0, 2);
    // A first answer that arrives while the close runs, just after the release read the answers.
    let lateAnswer: unknown;
    const closingDb = hooked(db, async (command, send) => {
      const result = await send(command);
      if (command instanceof QueryCommand && command.input.ExpressionAttributeValues?.[':rsp'] === 'RSP#' && lateAnswer === undefined) {
        lateAnswer = await submitResponse(db, late, { responsiveness: 5, recommend: 10 }, beforeCloseTime).catch((error: unknown) => error);
      }
      return result;
    });
    // A revision read while the round was open, whose write arrives after the close: the hook
    // runs the whole close just before the revision's transaction goes out.
    let closing: Promise<boolean> | undefined;
    const revisingDb = hooked(db, async (command, send) => {
      if (command instanceof TransactWriteCommand && !closing) await (closing = closeRound(closingDb, round.roundId, closedAt));
      return send(command);
    });
    await expect(submitResponse(revisingDb, i0, { responsiveness: 5, recommend: 10 }, beforeCloseTime)).rejects.toBeInstanceOf(SurveyClosedError);
    expect(await closing).toBe(true);
    expect(lateAnswer).toBeInstanceOf(SurveyClosedError);

    const rows = await rowsOf(round.roundId);
    expect(rows.map((row) => [row.invitationId, row.revision, row.answers]).sort()).toEqual(
      [i0, i1, i2].map((i, x) => [i.invitationId, 1, { quoteConsent: false, ...kept[x] }]).sort(),
    );
    const aggregate = recomputeAggregate(kept as Answers[], 3);
    expect((await batches(fx)).map((b) => [b.size, b.aggregate])).toEqual([[3, aggregate]]);
    expect((await counters(fx))['pro 2030-01#reporter']).toEqual({ ...onSubmit(3), ...aggregate });
    expect(await getItem(keys.response(round.roundId, late.invitationId))).toBeUndefined();
  });

  it('refuses a first answer to a sent invitation, read while the round was open and written after the close: the close expired it first', async () => {
    const fx = await agencyFixture(3);
    const { round, of } = await roundFor(fx, { reporter: 4 }, T0);
    const [i0, i1, i2, late] = of('reporter') as [Invitation, Invitation, Invitation, Invitation];
    // Emailed: its first answer's transaction holds no check of the round, only of its status.
    for (const i of [i0, i1, i2, late]) expect(await transitionInvitation(db, round.roundId, i.invitationId, 'pending', 'sent', { set: { sentAt: iso(hours(T0, 0.5)) } })).toBe(true);
    const kept = [{ responsiveness: 2, recommend: 3 }, { responsiveness: 3 }, { responsiveness: 4 }];
    await answer([i0, i1, i2], kept, hours(T0, 1));
    // The whole close runs between the answer's read (the round open, the invitation sent) and its
    // write: one update of the invitation that holds the answer (`held-answer.ts`), no check of the round.
    let closing: Promise<boolean> | undefined;
    const answeringDb = hooked(db, async (command, send) => {
      if (isAnswerWrite(command) && !closing) {
        expect(command).toBeInstanceOf(UpdateCommand);
        await (closing = closeRound(db, round.roundId, afterClose(round)));
      }
      return send(command);
    });
    await expect(submitResponse(answeringDb, late, { responsiveness: 5, recommend: 10 }, addDays(T0, 2))).rejects.toBeInstanceOf(SurveyClosedError);
    expect(await closing).toBe(true);
    expect(await getItem(keys.invitation(round.roundId, late.invitationId))).toMatchObject({ status: 'expired' });
    expect(await getItem(keys.invitation(round.roundId, late.invitationId))).not.toHaveProperty('heldAnswer');
    expect(await getItem(keys.response(round.roundId, late.invitationId))).toBeUndefined();
    const aggregate = recomputeAggregate(kept as Answers[], 3);
    expect((await batches(fx)).map((b) => [b.size, b.aggregate])).toEqual([[3, aggregate]]);
  });

  /** A db whose answer's first write waits for `action`: the answer was read before it. */
  const before = (action: () => Promise<unknown>) => {
    let done = false;
    return hooked(db, async (command, send) => {
      if (isAnswerWrite(command) && !done) {
        done = true;
        await action();
      }
      return send(command);
    });
  };

  it('refuses a first answer to a sent invitation of an anonymous round cancelled between its read and its write, so none is released at the close', async () => {
    const fx = await agencyFixture(3);
    const { round, of } = await roundFor(fx, { reporter: 3 }, T0);
    const [i0, i1, late] = of('reporter') as [Invitation, Invitation, Invitation];
    for (const i of [i0, i1, late]) expect(await transitionInvitation(db, round.roundId, i.invitationId, 'pending', 'sent', { set: { sentAt: iso(hours(T0, 0.5)) } })).toBe(true);
    await answer([i0, i1], [{ responsiveness: 2 }, { responsiveness: 3 }], hours(T0, 1));
    const cancelling = before(() => cancelRound(db, fx.agencyId, round.roundId));
    await expect(submitResponse(cancelling, late, { responsiveness: 5 }, hours(T0, 2))).rejects.toBeInstanceOf(SurveyClosedError);
    expect(await closeRound(db, round.roundId, afterClose(round))).toBe(true);
    // The two answers given before the cancel are fewer than k: pooled, nothing published.
    expect(await batches(fx)).toEqual([]);
    expect(await getItem(keys.response(round.roundId, late.invitationId))).toBeUndefined();
  });

  it('refuses a first answer to a sent invitation of a named round cancelled between its read and its write', async () => {
    const fx = await agencyFixture(3);
    const { round, of } = await roundFor(fx, { reporter: 1 }, T0, { attribution: 'named' });
    const [i0] = of('reporter') as [Invitation];
    expect(await transitionInvitation(db, round.roundId, i0.invitationId, 'pending', 'sent', { set: { sentAt: iso(hours(T0, 0.5)) } })).toBe(true);
    const cancelling = before(() => cancelRound(db, fx.agencyId, round.roundId));
    await expect(submitResponse(cancelling, i0, { responsiveness: 5, recommend: 10 }, hours(T0, 1))).rejects.toBeInstanceOf(SurveyClosedError);
    expect(await batches(fx)).toEqual([]);
    expect(await getItem(keys.response(round.roundId, i0.invitationId))).toBeUndefined();
  });

  it('refuses a first answer to an invitation whose email was in flight at the cancel and recorded sent after it, read stale as open', async () => {
    const fx = await agencyFixture(3);
    const { round, of } = await roundFor(fx, { reporter: 1 }, T0);
    const [i0] = of('reporter') as [Invitation];
    expect(await transitionInvitation(db, round.roundId, i0.invitationId, 'pending', 'sending')).toBe(true);
    // The page's read, from before the cancel (an eventually consistent read may still show it open).
    const stale = await openInvitation(db, i0);
    await cancelRound(db, fx.agencyId, round.roundId);
    expect(await transitionInvitation(db, round.roundId, i0.invitationId, 'sending', 'sent', { set: { sentAt: iso(hours(T0, 0.5)) } })).toBe(true);
    const opened = { ...stale, invitation: { ...stale.invitation, status: 'sent' as const } };
    await expect(submitResponse(db, i0, { responsiveness: 5 }, hours(T0, 1), { opened })).rejects.toBeInstanceOf(SurveyClosedError);
    expect(await getItem(keys.response(round.roundId, i0.invitationId))).toBeUndefined();
  });
});
