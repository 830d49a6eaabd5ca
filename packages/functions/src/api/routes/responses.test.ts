import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import {
  closeRound,
  createCampaign,
  createPro,
  createRound,
  keys,
  namedBatchId,
  poolBatchId,
  RESPONSE_CSV_COLUMNS,
  ROW_KEY,
  roundBatchId,
  submitResponse,
  type Invitation,
} from '@rapport/core';
import { agencyFixture, parseCsv, testDeps, type AgencyFixture, type ApiAnswer } from '@rapport/testing';

const deps = testDeps();
const { db } = deps;

/**
 * One agency with k = 3, everything answered in March 2030:
 * - Jane, "Spring Launch", an anonymous round: three reporters (outlet "Secret Outlet") answer —
 *   two promoters with quotable comments, one a formula — and one client (a quotable promoter too).
 *   Closed at CLOSE: the reporters (3 = k) are one batch of the campaign; the client (1) waits in
 *   Jane's client pool.
 * - Jane, "Summer Tour", an anonymous round: two clients answer. Closed at POOL_CLOSE, in April:
 *   the pool then holds 3 and is released as one batch of "several campaigns", counted in April.
 * - Jane, "Named Tour", a named round: two reporters with names and outlets, released when given.
 * - Bob, "Bob Launch": an anonymous round with one colleague (closed at CLOSE: it waits in Bob's
 *   pool, released nowhere) and a named round with two, released when given.
 */
let f: AgencyFixture;
let other: AgencyFixture;
let jane: string;
let bob: string;
let spring: string;
let summer: string;
let tour: string;
let bobLaunch: string;
let tourRound: string;
let springBatch: string;
let poolBatch: string;
const times: string[] = [];
const invitations: Record<string, Invitation> = {};
const anonymousInvitations: Invitation[] = [];
/** When anonymous answers (and revisions) were given: no released row may carry them. */
const anonymousTimes: string[] = [];
const BASE = Date.parse('2030-03-02T09:00:00.000Z');
const REVISED_AT = new Date(BASE + 3_600_000).toISOString();
const CLOSE = '2030-03-02T11:00:00.000Z';
const POOL_CLOSE = '2030-04-02T09:00:00.000Z';
/** The lists as they were with every answer given but no round closed. */
let beforeClose: { responses: ApiAnswer; testimonials: ApiAnswer };

const FORMULA = '=HYPERLINK("http://evil.example","click")';
const QUOTED = 'Always "on it", even on weekends';
const UNICODE = 'Zoë says: 記者 👍, line one\nline two';
const POOLED_QUOTE = 'A pooled client comment';
const BOB_SECRET = 'Bob never calls back';

async function round(campaignId: string, attribution: 'anonymous' | 'named', recipients: { email: string; name?: string; audience: 'reporter' | 'colleague' | 'client'; outlet?: string }[]) {
  const { round, accepted, skipped } = await createRound(db, f.agencyId, campaignId, { recipients, attribution }, new Date(BASE));
  expect(skipped).toEqual([]);
  if (attribution === 'anonymous') anonymousInvitations.push(...accepted);
  return { roundId: round.roundId, accepted };
}

/** Answers in a fixed order, one minute apart. */
async function answer(label: string, invitation: Invitation, answers: Record<string, unknown>) {
  const at = new Date(BASE + (times.length + 1) * 60_000);
  times.push(at.toISOString());
  if (anonymousInvitations.includes(invitation)) anonymousTimes.push(at.toISOString());
  invitations[label] = invitation;
  await submitResponse(db, invitation, answers, at);
}

const email = (name: string) => `${name}-${f.agencyId.slice(3).toLowerCase()}@news.example`;
const get = (path: string, key = f.readKey) => f.call('GET', path, { key });

beforeAll(async () => {
  f = await agencyFixture(deps);
  other = await agencyFixture(deps);
  await f.call('PATCH', '/v1/settings', { body: { anonymityThreshold: 3 } });
  const at = new Date(BASE);
  jane = (await createPro(db, f.agencyId, { name: 'Jane Doe', email: email('jane') }, at)).proId;
  bob = (await createPro(db, f.agencyId, { name: 'Bob Roe', email: email('bob') }, at)).proId;
  spring = (await createCampaign(db, f.agencyId, { proId: jane, name: 'Spring Launch' }, at)).campaignId;
  summer = (await createCampaign(db, f.agencyId, { proId: jane, name: 'Summer Tour' }, at)).campaignId;
  tour = (await createCampaign(db, f.agencyId, { proId: jane, name: 'Named Tour' }, at)).campaignId;
  bobLaunch = (await createCampaign(db, f.agencyId, { proId: bob, name: 'Bob Launch' }, at)).campaignId;

  const springRound = await round(spring, 'anonymous', [
    { email: email('r1'), name: 'Rita One', audience: 'reporter', outlet: 'Secret Outlet' },
    { email: email('r2'), name: 'Rob Two', audience: 'reporter', outlet: 'Secret Outlet' },
    { email: email('r3'), name: 'Ray Three', audience: 'reporter', outlet: 'Secret Outlet' },
    { email: email('c1'), name: 'Cora Client', audience: 'client' },
  ]);
  const [r1, r2, r3, c1] = springRound.accepted;
  const named = await round(tour, 'named', [
    { email: email('n1'), name: 'Ana Ruiz', audience: 'reporter', outlet: 'Daily News' },
    { email: email('n2'), name: 'Zoë Ångström', audience: 'reporter', outlet: 'Le Monde, Paris' },
  ]);
  tourRound = named.roundId;
  const [n1, n2] = named.accepted;
  const bobAnonymous = await round(bobLaunch, 'anonymous', [{ email: email('b1'), name: 'Bert Anon', audience: 'colleague' }]);
  const [b2, b3] = (
    await round(bobLaunch, 'named', [
      { email: email('b2'), name: 'Bea Named', audience: 'colleague' },
      { email: email('b3'), name: 'Bill Named', audience: 'colleague' },
    ])
  ).accepted;
  const summerRound = await round(summer, 'anonymous', [
    { email: email('s1'), name: 'Sue Summer', audience: 'client' },
    { email: email('s2'), name: 'Sam Summer', audience: 'client' },
  ]);
  const [s1, s2] = summerRound.accepted;

  await answer('r1', r1!, { responsiveness: 5, recommend: 10, listening: 5, improve: QUOTED, quoteConsent: true }); // times[0]
  await answer('r2', r2!, { responsiveness: 4, recommend: 9, improve: FORMULA, quoteConsent: true }); // times[1]
  await answer('r3', r3!, { responsiveness: 3, recommend: 6, relevance: 2, improve: UNICODE }); // times[2]
  await answer('c1', c1!, { responsiveness: 2, recommend: 10, improve: POOLED_QUOTE, quoteConsent: true }); // times[3]
  await answer('n1', n1!, { responsiveness: 5, recommend: 9, improve: 'Quote me', quoteConsent: true }); // times[4]
  await answer('n2', n2!, { responsiveness: 4, followThrough: 4 }); // times[5]
  await answer('b1', bobAnonymous.accepted[0]!, { responsiveness: 1, improve: BOB_SECRET, recommend: 10, quoteConsent: true }); // times[6]
  await answer('b2', b2!, { responsiveness: 4 }); // times[7]
  await answer('b3', b3!, { responsiveness: 5 }); // times[8]
  await answer('s1', s1!, { responsiveness: 4, improve: 'Summer one' }); // times[9]
  await answer('s2', s2!, { responsiveness: 3, improve: 'Summer two' }); // times[10]
  // A revision of an anonymous answer while the round is open: the released row has the latest.
  await submitResponse(db, r1!, { responsiveness: 5, recommend: 10, listening: 4, improve: QUOTED, quoteConsent: true }, new Date(REVISED_AT));
  anonymousTimes.push(REVISED_AT);

  beforeClose = { responses: await get('/v1/responses'), testimonials: await get('/v1/testimonials') };

  expect(await closeRound(db, springRound.roundId, new Date(CLOSE))).toBe(true);
  expect(await closeRound(db, bobAnonymous.roundId, new Date(CLOSE))).toBe(true);
  expect(await closeRound(db, summerRound.roundId, new Date(POOL_CLOSE))).toBe(true);
  springBatch = roundBatchId(springRound.roundId, 'reporter');
  poolBatch = poolBatchId(f.agencyId, jane, 'client', 0);
}, 60_000);

const namedBatch = (label: string) => namedBatchId(tourRound, invitations[label]!.invitationId);

/** Nothing that could name an anonymous respondent: address, name, outlet, invitation or round id, or when they answered. */
function expectNoAnonymousIdentity(text: string) {
  for (const i of anonymousInvitations) {
    expect(text).not.toContain(i.email);
    expect(text).not.toContain(i.invitationId);
    expect(text).not.toContain(i.roundId);
    if (i.name) expect(text).not.toContain(i.name);
  }
  for (const t of anonymousTimes) expect(text).not.toContain(t);
  expect(text).not.toContain('Secret Outlet');
  // Bob's lone anonymous colleague waits in the pool: released nowhere.
  expect(text).not.toContain(BOB_SECRET);
}

type Row = { batchId: string; releasedAt: string; answers: { improve?: string }; respondent: { name: string } | null };
/** A row's answer, to tell rows apart (every row has a comment or a named respondent). */
const label = (r: Row) => r.answers.improve ?? r.respondent!.name;

/** The anonymous rows of one batch, as a set: within a batch the order is random. */
const SPRING_REPORTERS = [QUOTED, FORMULA, UNICODE];
const POOLED_CLIENTS = [POOLED_QUOTE, 'Summer one', 'Summer two'];

describe('GET /v1/responses', () => {
  it('lists only released answers: named ones when given, anonymous ones once their round closed', async () => {
    expect(beforeClose.responses.status).toBe(200);
    // Every answer was given, but no anonymous round had closed: only the named answers show.
    expect(beforeClose.responses.body.data.map(label)).toEqual(['Quote me', 'Zoë Ångström', 'Bea Named', 'Bill Named']);
    expect(beforeClose.testimonials.body.data.map((t: { quote: string }) => t.quote)).toEqual(['Quote me']);
    expectNoAnonymousIdentity(JSON.stringify(beforeClose));
    for (const text of [...SPRING_REPORTERS, ...POOLED_CLIENTS]) expect(JSON.stringify(beforeClose)).not.toContain(JSON.stringify(text).slice(1, -1));

    const res = await get('/v1/responses');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['anonymityThreshold', 'data', 'nextCursor']);
    expect(res.body.anonymityThreshold).toBe(3);
    expect(res.body.nextCursor).toBeNull();
    const data: Row[] = res.body.data;
    // By release: the named answers when given, then the spring batch at its close, then the pool's
    // batch at the summer round's close; within a batch in no particular order.
    expect(data.map((r) => r.releasedAt)).toEqual([times[4], times[5], times[7], times[8], CLOSE, CLOSE, CLOSE, POOL_CLOSE, POOL_CLOSE, POOL_CLOSE]);
    expect(data.slice(0, 4).map(label)).toEqual(['Quote me', 'Zoë Ångström', 'Bea Named', 'Bill Named']);
    expect(data.slice(4, 7).map(label).sort()).toEqual([...SPRING_REPORTERS].sort());
    expect(data.slice(7).map(label).sort()).toEqual([...POOLED_CLIENTS].sort());
  });

  it('gives anonymous rows only their batch: campaign, month and release time, no ids, times or revision', async () => {
    const data: Row[] = (await get('/v1/responses')).body.data;
    const row = (text: string) => data.find((r) => label(r) === text);
    expect(row(QUOTED)).toEqual({
      batchId: springBatch,
      releasedAt: CLOSE,
      surveyId: null,
      invitationId: null,
      proId: jane,
      campaignId: spring,
      campaignName: 'Spring Launch',
      audience: 'reporter',
      attribution: 'anonymous',
      respondent: null,
      period: '2030-03',
      instrumentVersion: 1,
      // The revision given before the close.
      answers: { responsiveness: 5, recommend: 10, listening: 4, improve: QUOTED, quoteConsent: true },
      firstSubmittedAt: null,
      submittedAt: null,
      revision: null,
    });
    expect(row(UNICODE)).toMatchObject({ batchId: springBatch, answers: { responsiveness: 3, recommend: 6, relevance: 2, improve: UNICODE, quoteConsent: false } });
    // The pooled batch holds answers of two campaigns: it names none, and counts in the month it was released.
    expect(row(POOLED_QUOTE)).toEqual({
      batchId: poolBatch,
      releasedAt: POOL_CLOSE,
      surveyId: null,
      invitationId: null,
      proId: jane,
      campaignId: null,
      campaignName: null,
      audience: 'client',
      attribution: 'anonymous',
      respondent: null,
      period: '2030-04',
      instrumentVersion: 1,
      answers: { responsiveness: 2, recommend: 10, improve: POOLED_QUOTE, quoteConsent: true },
      firstSubmittedAt: null,
      submittedAt: null,
      revision: null,
    });
    expect(row('Summer one')).toMatchObject({ batchId: poolBatch, campaignId: null, period: '2030-04' });
    // A named answer is a batch of its own, released when first given, with its respondent and times.
    expect(row('Quote me')).toEqual({
      batchId: namedBatch('n1'),
      releasedAt: times[4],
      surveyId: tourRound,
      invitationId: invitations.n1!.invitationId,
      proId: jane,
      campaignId: tour,
      campaignName: 'Named Tour',
      audience: 'reporter',
      attribution: 'named',
      respondent: { name: 'Ana Ruiz', email: email('n1'), outlet: 'Daily News' },
      period: '2030-03',
      instrumentVersion: 1,
      answers: { responsiveness: 5, recommend: 9, improve: 'Quote me', quoteConsent: true },
      firstSubmittedAt: times[4],
      submittedAt: times[4],
      revision: 1,
    });
    expect(row('Zoë Ångström')).toMatchObject({ batchId: namedBatch('n2'), respondent: { name: 'Zoë Ångström', email: email('n2'), outlet: 'Le Monde, Paris' } });
    expectNoAnonymousIdentity(JSON.stringify(data));
  });

  it('orders a batch by keys drawn at random when it is released, not by when anyone answered', async () => {
    const g = await agencyFixture(deps);
    const at = new Date(BASE);
    const pro = await createPro(db, g.agencyId, { name: 'Order Pro', email: `order-${g.agencyId.slice(3).toLowerCase()}@acme.example` }, at);
    const campaign = await createCampaign(db, g.agencyId, { proId: pro.proId, name: 'Order' }, at);
    const recipients = Array.from({ length: 8 }, (_, i) => ({ email: `o${i}-${g.agencyId.slice(3).toLowerCase()}@news.example`, audience: 'reporter' as const }));
    const { round, accepted } = await createRound(db, g.agencyId, campaign.campaignId, { recipients }, at);
    // Eight answers (k is 5 by default), one minute apart, in a known order.
    for (const [i, invitation] of accepted.entries()) await submitResponse(db, invitation, { responsiveness: 3, improve: `answer ${i}` }, new Date(BASE + (i + 1) * 60_000));
    const close = new Date(BASE + 3_600_000);
    await closeRound(db, round.roundId, close);
    const batchId = roundBatchId(round.roundId, 'reporter');

    // Each stored row's place in the lists (agency's and pro's) is `<release>#<batch>#<16 random hex>`.
    const { Items = [] } = await db.doc.send(
      new QueryCommand({ TableName: db.table, KeyConditionExpression: 'PK = :pk AND begins_with(SK, :rsp)', ExpressionAttributeValues: { ':pk': keys.round(round.roundId).PK, ':rsp': 'RSP#' } }),
    );
    expect(Items).toHaveLength(8);
    const prefix = `${close.toISOString()}#${batchId}#`;
    for (const item of Items) {
      const rowKey = item.release.rowKey as string;
      expect(rowKey).toMatch(ROW_KEY);
      expect(rowKey.startsWith(prefix)).toBe(true);
      expect(rowKey.slice(prefix.length)).toMatch(/^[0-9a-f]{16}$/);
      expect(item).toMatchObject({ GSI1PK: `AG#${g.agencyId}#RSP`, GSI1SK: rowKey, GSI2PK: `AG#${g.agencyId}#PRO#${pro.proId}#RSP`, GSI2SK: rowKey });
    }
    expect(new Set(Items.map((i) => i.release.rowKey)).size).toBe(8);

    // The list follows those keys ...
    const byKey = [...Items].sort((a, b) => (a.release.rowKey < b.release.rowKey ? -1 : 1)).map((i) => i.answers.improve as string);
    for (const path of ['/v1/responses', `/v1/responses?proId=${pro.proId}`]) {
      const listed = (await g.call('GET', path, { key: g.readKey })).body.data as Row[];
      expect(listed.map((r) => r.batchId)).toEqual(Array(8).fill(batchId));
      expect(listed.map(label)).toEqual(byKey);
    }
    // ... and so not the order of the answers (1 chance in 8! = 40,320 that a shuffle gives it back).
    expect(byKey).not.toEqual(Array.from({ length: 8 }, (_, i) => `answer ${i}`));
  });

  it('pages with an opaque cursor that is a row key (release, batch, random), complete and without duplicates', async () => {
    const all: Row[] = (await get('/v1/responses')).body.data;
    const seen: Row[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: ApiAnswer = await get(`/v1/responses?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data);
      cursor = res.body.nextCursor;
      if (cursor) {
        const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
        expect(Object.keys(decoded)).toEqual(['after']);
        expect(decoded.after).toMatch(ROW_KEY);
        // The key of the page's last row: its release and batch, nothing of who answered.
        const last = res.body.data.at(-1) as Row;
        expect(decoded.after.startsWith(`${last.releasedAt}#${last.batchId}#`)).toBe(true);
        expectNoAnonymousIdentity(JSON.stringify(decoded));
      }
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(5);
    expect(seen).toEqual(all);
    expect(new Set(seen.map(label)).size).toBe(10);
  });

  it('filters by pro, the batch\'s campaign, audience and release time', async () => {
    // Bob's named colleagues are released; his anonymous one waits in the pool.
    const bobs = await get(`/v1/responses?proId=${bob}`);
    expect(bobs.body).toEqual({ data: [expect.objectContaining({ attribution: 'named' }), expect.objectContaining({ attribution: 'named' })], nextCursor: null, anonymityThreshold: 3 });
    expect(bobs.body.data.map(label)).toEqual(['Bea Named', 'Bill Named']);

    const reporters = await get(`/v1/responses?campaignId=${spring}&audience=reporter`);
    expect(reporters.body.data.map(label).sort()).toEqual([...SPRING_REPORTERS].sort());
    // The campaign is the batch's: the spring client was released in the pooled batch, which has none.
    expect((await get(`/v1/responses?campaignId=${spring}`)).body.data.map(label).sort()).toEqual([...SPRING_REPORTERS].sort());
    expect((await get(`/v1/responses?campaignId=${summer}`)).body).toEqual({ data: [], nextCursor: null, anonymityThreshold: 3 });

    const janeReporters = await get(`/v1/responses?proId=${jane}&audience=reporter`);
    expect(janeReporters.body.data.map(label).slice(0, 2)).toEqual(['Quote me', 'Zoë Ångström']);
    expect(janeReporters.body.data.map(label).slice(2).sort()).toEqual([...SPRING_REPORTERS].sort());

    const clients = await get('/v1/responses?audience=client');
    expect(clients.body.data.map(label).sort()).toEqual([...POOLED_CLIENTS].sort());

    // since is inclusive, until exclusive, both on the release time; an offset is read as the instant it names.
    const window = await get(`/v1/responses?since=${times[5]}&until=${encodeURIComponent(CLOSE.replace('Z', '+00:00'))}`);
    expect(window.status).toBe(200);
    expect(window.body.data.map(label)).toEqual(['Zoë Ångström', 'Bea Named', 'Bill Named']);
    // The spring reporters answered before times[3] but were released at the close.
    const released = await get(`/v1/responses?since=${times[3]}&until=${POOL_CLOSE}&audience=reporter`);
    expect(released.body.data.map(label).slice(0, 2)).toEqual(['Quote me', 'Zoë Ångström']);
    expect(released.body.data.map(label).slice(2).sort()).toEqual([...SPRING_REPORTERS].sort());
    expect((await get(`/v1/responses?since=${CLOSE}&until=2030-03-03`)).body.data.map(label).sort()).toEqual([...SPRING_REPORTERS].sort());
    expect((await get('/v1/responses?since=2030-04-01')).body.data.map(label).sort()).toEqual([...POOLED_CLIENTS].sort());

    // A cursor reused with an earlier `until` leaves nothing.
    const first = await get('/v1/responses?limit=3');
    const past = await get(`/v1/responses?cursor=${first.body.nextCursor}&until=${times[1]}`);
    expect(past.status).toBe(200);
    expect(past.body).toEqual({ data: [], nextCursor: null, anonymityThreshold: 3 });

    const later = await get('/v1/responses?since=2030-04-03');
    expect(later.body).toEqual({ data: [], nextCursor: null, anonymityThreshold: 3 });
  });

  it('answers 400 naming the field for unknown or malformed filters, and 404 for another agency\'s pro or campaign', async () => {
    const otherPro = (await createPro(db, other.agencyId, { name: 'Other', email: `other-${other.agencyId.slice(3)}@x.example` }, new Date(BASE))).proId;
    const otherCampaign = (await createCampaign(db, other.agencyId, { proId: otherPro, name: 'Theirs' }, new Date(BASE))).campaignId;
    const field = async (query: string) => {
      const res = await get(`/v1/responses?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.headers.get('Content-Type')).toMatch(/problem\+json/);
      return res.body.errors.map((e: { field: string }) => e.field);
    };
    expect(await field('pro=x')).toEqual(['pro']);
    expect(await field('audience=editor')).toEqual(['audience']);
    expect(await field('since=yesterday')).toEqual(['since']);
    expect(await field('until=2030-02-30T25:00:00Z')).toEqual(['until']);
    expect(await field(`since=${times[4]}&until=${times[1]}`)).toEqual(['until']);
    expect(await field('proId=bob')).toEqual(['proId']);
    expect(await field('campaignId=pro_01J00000000000000000000000')).toEqual(['campaignId']);
    expect(await field(`proId=${bob}&campaignId=${spring}`)).toEqual(['campaignId']);
    expect(await field('cursor=garbage')).toEqual(['cursor']);
    expect(await field(`cursor=${Buffer.from(JSON.stringify({ GSI1PK: 'AG#x#RSP', GSI1SK: 'x' })).toString('base64url')}`)).toEqual(['cursor']);
    // A cursor of the old shape (a time and a count), or an `after` that is not a row key.
    expect(await field(`cursor=${Buffer.from(JSON.stringify({ t: times[0], s: 1 })).toString('base64url')}`)).toEqual(['cursor']);
    expect(await field(`cursor=${Buffer.from(JSON.stringify({ after: `${CLOSE}#${springBatch}` })).toString('base64url')}`)).toEqual(['cursor']);
    expect(await field('limit=101')).toEqual(['limit']);
    expect((await get(`/v1/responses?proId=${otherPro}`)).status).toBe(404);
    expect((await get(`/v1/responses?campaignId=${otherCampaign}`)).status).toBe(404);
    expect((await get(`/v1/testimonials?campaignId=${otherCampaign}`)).status).toBe(404);
    expect((await get(`/v1/responses.csv?proId=${otherPro}`)).status).toBe(404);
    expect((await f.call('GET', '/v1/responses', { key: null })).status).toBe(401);
  });

  it('shows another agency nothing of this one', async () => {
    const res = await other.call('GET', '/v1/responses', { key: other.readKey });
    expect(res.body).toEqual({ data: [], nextCursor: null, anonymityThreshold: 5 });
    expect((await other.call('GET', '/v1/testimonials', { key: other.readKey })).body).toEqual({ data: [], nextCursor: null, anonymityThreshold: 5 });
  });
});

describe('GET /v1/testimonials', () => {
  it("lists released promoters' consented comments with their batch; the name only from named rounds", async () => {
    const res = await get('/v1/testimonials');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['anonymityThreshold', 'data', 'nextCursor']);
    const data = res.body.data as { quote: string }[];
    expect(data).toHaveLength(4);
    expect(data[0]).toEqual({
      quote: 'Quote me',
      recommend: 9,
      proId: jane,
      campaignId: tour,
      campaignName: 'Named Tour',
      audience: 'reporter',
      attribution: 'named',
      respondent: { name: 'Ana Ruiz', outlet: 'Daily News' },
      period: '2030-03',
      batchId: namedBatch('n1'),
      releasedAt: times[4],
    });
    // The two spring promoters, in their batch's random order.
    expect(data.slice(1, 3).map((t) => t.quote).sort()).toEqual([QUOTED, FORMULA].sort());
    expect(data.find((t) => t.quote === QUOTED)).toEqual({
      quote: QUOTED,
      recommend: 10,
      proId: jane,
      campaignId: spring,
      campaignName: 'Spring Launch',
      audience: 'reporter',
      attribution: 'anonymous',
      respondent: null,
      period: '2030-03',
      batchId: springBatch,
      releasedAt: CLOSE,
    });
    // The spring client's quote came out with the pooled batch, under no campaign.
    expect(data[3]).toEqual({
      quote: POOLED_QUOTE,
      recommend: 10,
      proId: jane,
      campaignId: null,
      campaignName: null,
      audience: 'client',
      attribution: 'anonymous',
      respondent: null,
      period: '2030-04',
      batchId: poolBatch,
      releasedAt: POOL_CLOSE,
    });
    expectNoAnonymousIdentity(JSON.stringify(res.body));
    expect(JSON.stringify(res.body)).not.toContain(email('n1'));

    const named = await get(`/v1/testimonials?campaignId=${tour}&limit=1`);
    expect(named.body.data).toHaveLength(1);
    expect(named.body.nextCursor).toBeNull();
    expect((await get(`/v1/testimonials?since=${CLOSE}&until=${POOL_CLOSE}`)).body.data.map((t: { quote: string }) => t.quote).sort()).toEqual([QUOTED, FORMULA].sort());
    expect((await get('/v1/testimonials?since=bad')).status).toBe(400);
  });
});

describe('GET /v1/responses.csv', () => {
  const col = (row: string[] | undefined, name: (typeof RESPONSE_CSV_COLUMNS)[number]) => row![RESPONSE_CSV_COLUMNS.indexOf(name)];

  it('streams RFC 4180 CSV with the documented columns, in the order of the list: quoting, unicode, formulas neutralised, anonymous rows without times or ids', async () => {
    const res = await f.app.request('/v1/responses.csv', { headers: { Authorization: `Bearer ${f.readKey}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('text/csv; charset=utf-8; header=present');
    expect(res.headers.get('Content-Disposition')).toBe('attachment; filename="responses.csv"');
    const text = await res.text();
    expect(text.endsWith('\r\n')).toBe(true);
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual([...RESPONSE_CSV_COLUMNS]);
    expect(header!.slice(0, 3)).toEqual(['record', 'first_submitted_at', 'submitted_at']);
    // The release columns are appended: existing columns keep their places.
    expect(header!.slice(-3)).toEqual(['withheld_n', 'released_at', 'batch_id']);
    // Every row is a released response; nothing is withheld any more.
    expect(rows.map((r) => col(r, 'record'))).toEqual(Array(10).fill('response'));
    expect(rows.map((r) => col(r, 'withheld_n'))).toEqual(Array(10).fill(''));
    const listed: Row[] = (await get('/v1/responses')).body.data;
    expect(rows.map((r) => [col(r, 'released_at'), col(r, 'batch_id'), col(r, 'improve')])).toEqual(
      listed.map((r) => [r.releasedAt, r.batchId, r.answers.improve === FORMULA ? `'${FORMULA}` : (r.answers.improve ?? '')]),
    );

    const find = (improve: string) => rows.find((r) => col(r, 'improve') === improve)!;
    const r1 = find(QUOTED);
    expect(text).toContain('"Always ""on it"", even on weekends"');
    expect(col(r1, 'listening')).toBe('4');
    expect(col(r1, 'relevance')).toBe('');
    expect(col(r1, 'quote_consent')).toBe('true');
    expect(col(r1, 'period')).toBe('2030-03');
    expect(col(r1, 'campaign_id')).toBe(spring);
    expect(col(r1, 'released_at')).toBe(CLOSE);
    expect(col(r1, 'batch_id')).toBe(springBatch);
    // Nothing of the respondent, and no time of answer or revision count.
    for (const name of ['first_submitted_at', 'submitted_at', 'revision', 'survey_id', 'invitation_id', 'respondent_name', 'respondent_email', 'respondent_outlet'] as const) {
      expect(col(r1, name), name).toBe('');
    }
    // The formula a respondent typed into the comment reaches the sheet as text.
    expect(col(find(`'${FORMULA}`), 'recommend')).toBe('9');
    expect(col(find(UNICODE), 'relevance')).toBe('2');
    const pooled = find(POOLED_QUOTE);
    expect([col(pooled, 'campaign_id'), col(pooled, 'campaign_name'), col(pooled, 'period'), col(pooled, 'batch_id'), col(pooled, 'released_at')]).toEqual(['', '', '2030-04', poolBatch, POOL_CLOSE]);

    const n1 = find('Quote me');
    expect(col(n1, 'respondent_name')).toBe('Ana Ruiz');
    expect(col(n1, 'respondent_email')).toBe(email('n1'));
    expect(col(n1, 'respondent_outlet')).toBe('Daily News');
    expect([col(n1, 'first_submitted_at'), col(n1, 'submitted_at'), col(n1, 'revision'), col(n1, 'released_at')]).toEqual([times[4], times[4], '1', times[4]]);
    expect([col(n1, 'survey_id'), col(n1, 'invitation_id'), col(n1, 'batch_id')]).toEqual([tourRound, invitations.n1!.invitationId, namedBatch('n1')]);
    expect(col(rows[1], 'respondent_outlet')).toBe('Le Monde, Paris');
    expect(col(rows[1], 'respondent_name')).toBe('Zoë Ångström');
    expectNoAnonymousIdentity(text);
  });

  it('has the columns the design notes document', () => {
    const notes = readFileSync(new URL('../../../../../docs/DESIGN-NOTES.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
    const documented = /Columns, stable, new ones only appended: `([^`]*)`/.exec(notes)?.[1];
    expect(documented).toBe(RESPONSE_CSV_COLUMNS.join(', '));
  });

  it('applies the filters, and refuses a bad one with a problem before any CSV', async () => {
    const res = await f.app.request(`/v1/responses.csv?campaignId=${spring}`, { headers: { Authorization: `Bearer ${f.readKey}` } });
    const [, ...rows] = parseCsv(await res.text());
    expect(rows.map((r) => col(r, 'improve')).sort()).toEqual([QUOTED, `'${FORMULA}`, UNICODE].sort());
    expect(rows.map((r) => col(r, 'batch_id'))).toEqual([springBatch, springBatch, springBatch]);

    const window = await f.app.request(`/v1/responses.csv?since=${POOL_CLOSE}`, { headers: { Authorization: `Bearer ${f.readKey}` } });
    const [, ...pooled] = parseCsv(await window.text());
    expect(pooled.map((r) => col(r, 'improve')).sort()).toEqual([...POOLED_CLIENTS].sort());

    const bad = await get('/v1/responses.csv?limit=5');
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ field: 'limit', message: 'is not a known parameter' }]);
  });
});

describe('OpenAPI', () => {
  it('documents the three routes, the CSV as text/csv, rows with their batch and no withheld groups', async () => {
    const document = (await (await f.app.request('/openapi.json')).json()) as any;
    expect(Object.keys(document.paths['/v1/responses.csv'].get.responses[200].content)).toEqual(['text/csv']);
    expect(document.paths['/v1/responses'].get.parameters.map((p: { name: string }) => p.name)).toEqual(['limit', 'cursor', 'proId', 'campaignId', 'audience', 'since', 'until']);
    for (const path of ['/v1/responses', '/v1/testimonials']) {
      const named = (schema: { $ref: string }) => document.components.schemas[schema.$ref.split('/').pop()!];
      const list = named(document.paths[path].get.responses[200].content['application/json'].schema);
      expect(Object.keys(list.properties).sort()).toEqual(['anonymityThreshold', 'data', 'nextCursor']);
      expect(named(list.properties.data.items).properties).toHaveProperty('batchId');
      expect(named(list.properties.data.items).properties).toHaveProperty('releasedAt');
    }
  });
});
