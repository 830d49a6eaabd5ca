import { beforeAll, describe, expect, it } from 'vitest';
import { closeRound, createCampaign, keys, createPro, createRound, groupScores, readCounter, submitResponse, type Answers, type Audience } from '@rapport/core';
import { deliver } from '@rapport/core/sending/dispatch';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { agencyFixture, recomputeAggregate, runTool, testConfig, testDeps, type AgencyFixture } from '@rapport/testing';
import { deliveryDeps } from '../../deps';

const deps = testDeps();
const { db } = deps;
const K = 3;

/**
 * Two agencies (k = 3). Agency A: seven pros with answers in January 2030, each an anonymous round
 * of reporters closed (released as a batch), two with a named colleague answer as well; one pro with
 * nothing; one pro with a round in June 2029 only (outside the range asked). Agency B: two pros
 * with answers in the same month.
 */
let a: AgencyFixture;
let b: AgencyFixture;
let listed: string[];
let quiet: string;
let earlier: string;
let others: string[];

async function proWithRounds(f: AgencyFixture, name: string, at: string, scores: number[], named?: number) {
  const when = new Date(at);
  const { proId } = await createPro(db, f.agencyId, { name, email: `${name.replace(/\W/g, '')}-${f.agencyId.slice(3)}@acme.example` }, when);
  const { campaignId } = await createCampaign(db, f.agencyId, { proId, name: `${name} launch` }, when);
  const answered = async (audience: Audience, list: number[], attribution: 'anonymous' | 'named') => {
    const recipients = list.map((_, i) => ({ email: `${proId}-${attribution}-${i}@news.example`, audience }));
    const { round, accepted } = await createRound(db, f.agencyId, campaignId, { recipients, attribution }, when);
    for (const [i, invitation] of accepted.entries()) {
      await deliver({ ...deliveryDeps(deps), now: () => when }, { kind: 'invitation', roundId: round.roundId, invitationId: invitation.invitationId });
      const x = list[i]!;
      await submitResponse(db, invitation, { responsiveness: x, recommend: x * 2, ...(i % 2 ? { listening: x } : {}) }, new Date(when.getTime() + 3_600_000));
    }
    return round.roundId;
  };
  const anonymous = await answered('reporter', scores, 'anonymous');
  if (named !== undefined) await answered('colleague', [named], 'named');
  expect(await closeRound(db, anonymous, new Date(when.getTime() + 10 * 86_400_000))).toBe(true);
  return proId;
}

beforeAll(async () => {
  [a, b] = await Promise.all([agencyFixture(deps), agencyFixture(deps)]);
  for (const f of [a, b]) await f.call('PATCH', '/v1/settings', { body: { anonymityThreshold: K } });
  listed = [];
  for (const [i, scores] of [[4, 5, 3], [1, 2, 2, 5], [5, 5, 5], [3, 4, 4], [2, 3, 4, 5], [5, 4, 3], [1, 1, 3]].entries()) {
    if (i === 2) quiet = (await createPro(db, a.agencyId, { name: 'Quiet Pro', email: `quiet-${a.agencyId.slice(3)}@acme.example` }, new Date('2030-01-01T00:00:00Z'))).proId;
    if (i === 4) earlier = await proWithRounds(a, 'Earlier Pro', '2029-06-10T10:00:00Z', [5, 5, 5]);
    listed.push(await proWithRounds(a, `Pro ${i}`, `2030-01-${10 + i}T10:00:00Z`, scores, i % 3 === 1 ? 4 : undefined));
  }
  others = [await proWithRounds(b, 'Other One', '2030-01-12T10:00:00Z', [2, 2, 2]), await proWithRounds(b, 'Other Two', '2030-01-13T10:00:00Z', [3, 3, 3], 5)];
}, 120_000);

/** A pro's group scores recomputed from its released responses: per batch its aggregate (k per batch), summed. */
async function recomputed(f: AgencyFixture, proId: string) {
  const rows: Array<{ batchId: string; attribution: 'anonymous' | 'named'; answers: Answers }> = [];
  let cursor: string | null = null;
  do {
    const page: { body: { data: typeof rows; nextCursor: string | null } } = await f.call('GET', `/v1/responses?proId=${proId}&limit=100${cursor ? `&cursor=${cursor}` : ''}`, { key: f.readKey });
    rows.push(...page.body.data);
    cursor = page.body.nextCursor;
  } while (cursor);
  const total: Record<string, number> = {};
  for (const batchId of new Set(rows.map((r) => r.batchId))) {
    const batch = rows.filter((r) => r.batchId === batchId);
    for (const [name, value] of Object.entries(recomputeAggregate(batch.map((r) => r.answers), batch[0]!.attribution === 'named' ? 1 : K))) total[name] = (total[name] ?? 0) + value;
  }
  return groupScores(readCounter(total));
}

async function allPages(f: AgencyFixture, query: string) {
  const pages = [];
  let cursor: string | null = null;
  do {
    const res: { status: number; body: any } = await f.call('GET', `/v1/scores?${query}${cursor ? `&cursor=${cursor}` : ''}`, { key: f.readKey });
    expect(res.status).toBe(200);
    pages.push(res.body);
    cursor = res.body.nextCursor;
  } while (cursor);
  return pages;
}

describe("the agency's scores, a page of pros at a time", () => {
  it('pages through every pro with a counter in the range once, in creation order, with the figures its released responses give', async () => {
    const pages = await allPages(a, 'from=2030-01&to=2030-03&granularity=total&limit=3');
    expect(pages.map((p) => p.pros.length)).toEqual([3, 3, 1]);
    expect(pages.map((p) => p.nextCursor === null)).toEqual([false, false, true]);
    const pros = pages.flatMap((p) => p.pros);
    // The quiet pro and the one with June 2029 only have no counter in the range.
    expect(pros.map((p: { proId: string }) => p.proId)).toEqual(listed);
    expect(pros.map((p: { n: number }) => p.n)).toEqual([3, 5, 3, 3, 5, 3, 3]);
    for (const [i, pro] of pros.entries()) {
      expect(pro).toEqual({ proId: listed[i], name: `Pro ${i}`, ...(await recomputed(a, listed[i]!)) });
    }
    // The agency's periods come with every page, and its n is the pros' n summed.
    for (const page of pages) expect(page.periods).toEqual(pages[0]!.periods);
    expect(pages[0]!.periods[0].total.n).toBe(pros.reduce((sum: number, p: { n: number }) => sum + p.n, 0));
    // Exactly full: one page and no cursor.
    const whole = await allPages(a, 'from=2030-01&to=2030-03&granularity=total&limit=7');
    expect(whole).toHaveLength(1);
    expect(whole[0]!.pros).toEqual(pros);
    // The whole history includes the pro of June 2029, in creation order.
    const history = (await allPages(a, 'from=2029-06&to=2030-01&limit=4')).flatMap((p) => p.pros.map((x: { proId: string }) => x.proId));
    expect(history).toEqual([...listed.slice(0, 4), earlier, ...listed.slice(4)]);
    expect(history).not.toContain(quiet);
  });

  it('filters by audience within each pro', async () => {
    const colleagues = (await allPages(a, 'from=2030-01&to=2030-01&audience=colleague&limit=2')).flatMap((p) => p.pros);
    expect(colleagues.map((p: { proId: string; n: number }) => [p.proId, p.n])).toEqual([
      [listed[1], 1],
      [listed[4], 1],
    ]);
  });

  it("never shows another agency's pros, and refuses its cursor", async () => {
    const [first] = await allPages(a, 'from=2030-01&to=2030-01&limit=3');
    const seenByB = (await allPages(b, 'from=2030-01&to=2030-01&limit=1')).flatMap((p) => p.pros.map((x: { proId: string }) => x.proId));
    expect(seenByB).toEqual(others);
    const foreign = await b.call('GET', `/v1/scores?from=2030-01&to=2030-01&limit=3&cursor=${first!.nextCursor}`, { key: b.readKey });
    expect(foreign.status).toBe(400);
    expect(foreign.body.errors).toEqual([{ field: 'cursor', message: 'is not a cursor returned by this list' }]);
    const bad = await a.call('GET', '/v1/scores?limit=0', { key: a.readKey });
    expect(bad.body).toMatchObject({ status: 400, errors: [{ field: 'limit' }] });
  });

  it('lists pro counters written before the index once `admin index-scores` has run', async () => {
    const before = (await allPages(b, 'from=2030-01&to=2030-01')).flatMap((p) => p.pros);
    // Counters as they were stored before the index: without its keys.
    let unindexed = 0;
    for (const proId of others) {
      const { Items = [] } = await db.doc.send(new QueryCommand({ TableName: db.table, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': keys.proCounter(b.agencyId, proId, '', '').PK } }));
      for (const item of Items) {
        await db.doc.send(new UpdateCommand({ TableName: db.table, Key: { PK: item.PK, SK: item.SK }, UpdateExpression: 'REMOVE GSI2PK, GSI2SK' }));
        unindexed++;
      }
    }
    expect((await allPages(b, 'from=2030-01&to=2030-01')).flatMap((p) => p.pros)).toEqual([]);

    const config = testConfig();
    const admin = (args: string[]) => runTool('packages/local/src/admin.ts', args, { DYNAMODB_ENDPOINT: config.dynamoEndpoint!, TABLE_NAME: config.table });
    const run = await admin(['index-scores', '--agency', b.agencyId]);
    expect(run.result).toEqual({ agencies: 1, indexed: unindexed });
    expect((await allPages(b, 'from=2030-01&to=2030-01')).flatMap((p) => p.pros)).toEqual(before);
    // Run again, it finds nothing left to do.
    expect((await admin(['index-scores', '--agency', b.agencyId])).result).toEqual({ agencies: 1, indexed: 0 });
  });
});
