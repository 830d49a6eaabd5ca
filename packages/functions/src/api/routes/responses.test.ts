import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCampaign, createPro, createRound, RESPONSE_CSV_COLUMNS, submitResponse, type Invitation } from '@rapport/core';
import { agencyFixture, parseCsv, testDeps, type AgencyFixture } from '@rapport/testing';

const deps = testDeps();
const { db } = deps;

/**
 * One agency with k = 3:
 * - Jane, "Spring Launch", an anonymous round: three reporters (outlet "Secret Outlet") answer —
 *   two promoters with quotable comments, one a formula — and one client (a quotable promoter too).
 *   Reporters: 3 anonymous, shown. Clients: 1 anonymous, withheld.
 * - Jane, "Named Tour", a named round: two reporters with names and outlets.
 * - Bob, "Bob Launch": an anonymous round with one colleague and a named round with two. The
 *   colleague group holds 3 responses, 1 anonymous: withheld whole, named ones too.
 */
let f: AgencyFixture;
let other: AgencyFixture;
let jane: string;
let bob: string;
let spring: string;
let tour: string;
let bobLaunch: string;
const times: string[] = [];
const anonymousInvitations: Invitation[] = [];
const BASE = Date.parse('2030-03-02T09:00:00.000Z');

const FORMULA = '=HYPERLINK("http://evil.example","click")';
const QUOTED = 'Always "on it", even on weekends';
const UNICODE = 'Zoë says: 記者 👍, line one\nline two';

async function round(campaignId: string, attribution: 'anonymous' | 'named', recipients: { email: string; name?: string; audience: 'reporter' | 'colleague' | 'client'; outlet?: string }[]) {
  const { accepted, skipped } = await createRound(db, f.agencyId, campaignId, { recipients, attribution }, new Date(BASE));
  expect(skipped).toEqual([]);
  if (attribution === 'anonymous') anonymousInvitations.push(...accepted);
  return accepted;
}

/** Answers in a fixed order, one minute apart, so the list order is known. */
async function answer(invitation: Invitation, answers: Record<string, unknown>) {
  const at = new Date(BASE + (times.length + 1) * 60_000);
  times.push(at.toISOString());
  await submitResponse(db, invitation, answers, at);
}

const email = (name: string) => `${name}-${f.agencyId.slice(3).toLowerCase()}@news.example`;

beforeAll(async () => {
  f = await agencyFixture(deps);
  other = await agencyFixture(deps);
  await f.call('PATCH', '/v1/settings', { body: { anonymityThreshold: 3 } });
  const at = new Date(BASE);
  jane = (await createPro(db, f.agencyId, { name: 'Jane Doe', email: email('jane') }, at)).proId;
  bob = (await createPro(db, f.agencyId, { name: 'Bob Roe', email: email('bob') }, at)).proId;
  spring = (await createCampaign(db, f.agencyId, { proId: jane, name: 'Spring Launch' }, at)).campaignId;
  tour = (await createCampaign(db, f.agencyId, { proId: jane, name: 'Named Tour' }, at)).campaignId;
  bobLaunch = (await createCampaign(db, f.agencyId, { proId: bob, name: 'Bob Launch' }, at)).campaignId;

  const [r1, r2, r3, c1] = await round(spring, 'anonymous', [
    { email: email('r1'), name: 'Rita One', audience: 'reporter', outlet: 'Secret Outlet' },
    { email: email('r2'), name: 'Rob Two', audience: 'reporter', outlet: 'Secret Outlet' },
    { email: email('r3'), name: 'Ray Three', audience: 'reporter', outlet: 'Secret Outlet' },
    { email: email('c1'), name: 'Cora Client', audience: 'client' },
  ]);
  const [n1, n2] = await round(tour, 'named', [
    { email: email('n1'), name: 'Ana Ruiz', audience: 'reporter', outlet: 'Daily News' },
    { email: email('n2'), name: 'Zoë Ångström', audience: 'reporter', outlet: 'Le Monde, Paris' },
  ]);
  const [b1] = await round(bobLaunch, 'anonymous', [{ email: email('b1'), audience: 'colleague' }]);
  const [b2, b3] = await round(bobLaunch, 'named', [
    { email: email('b2'), name: 'Bea Named', audience: 'colleague' },
    { email: email('b3'), name: 'Bill Named', audience: 'colleague' },
  ]);

  await answer(r1!, { responsiveness: 5, recommend: 10, listening: 5, improve: QUOTED, quoteConsent: true }); // times[0]
  await answer(r2!, { responsiveness: 4, recommend: 9, improve: FORMULA, quoteConsent: true }); // times[1]
  await answer(r3!, { responsiveness: 3, recommend: 6, relevance: 2, improve: UNICODE }); // times[2]
  await answer(c1!, { responsiveness: 2, recommend: 10, improve: 'A secret client comment', quoteConsent: true }); // times[3]
  await answer(n1!, { responsiveness: 5, recommend: 9, improve: 'Quote me', quoteConsent: true }); // times[4]
  await answer(n2!, { responsiveness: 4, followThrough: 4 }); // times[5]
  await answer(b1!, { responsiveness: 1, improve: 'Bob never calls back' }); // times[6]
  await answer(b2!, { responsiveness: 4 }); // times[7]
  await answer(b3!, { responsiveness: 5 }); // times[8]
  // A revision keeps the first time and the place in the list.
  await submitResponse(db, r1!, { responsiveness: 5, recommend: 10, listening: 4, improve: QUOTED, quoteConsent: true }, new Date(BASE + 3_600_000));
}, 60_000);

const get = (path: string, key = f.readKey) => f.call('GET', path, { key });

const springWithheld = () => ({ campaignId: spring, campaignName: 'Spring Launch', audience: 'client', n: 1, anonymous: 1 });
const bobWithheld = () => ({ campaignId: bobLaunch, campaignName: 'Bob Launch', audience: 'colleague', n: 3, anonymous: 1 });

/** Nothing that could name an anonymous respondent: address, name, outlet, invitation or round id. */
function expectNoAnonymousIdentity(text: string) {
  for (const i of anonymousInvitations) {
    expect(text).not.toContain(i.email);
    expect(text).not.toContain(i.invitationId);
    expect(text).not.toContain(i.roundId);
    if (i.name) expect(text).not.toContain(i.name);
  }
  expect(text).not.toContain('Secret Outlet');
}

describe('GET /v1/responses', () => {
  it('lists answers, audience, campaign and time; anonymous rounds without identity; named with the respondent; groups below k left out with their n', async () => {
    const res = await get('/v1/responses');
    expect(res.status).toBe(200);
    expect(res.body.anonymityThreshold).toBe(3);
    expect(res.body.next_cursor).toBeNull();
    const data = res.body.data;
    expect(data.map((r: { firstSubmittedAt: string }) => r.firstSubmittedAt)).toEqual([times[0], times[1], times[2], times[4], times[5]]);
    expect(data[0]).toEqual({
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
      answers: { responsiveness: 5, recommend: 10, listening: 4, improve: QUOTED, quoteConsent: true },
      firstSubmittedAt: times[0],
      submittedAt: new Date(BASE + 3_600_000).toISOString(),
      revision: 2,
    });
    expect(data[3]).toMatchObject({
      attribution: 'named',
      campaignId: tour,
      surveyId: expect.stringMatching(/^rnd_/),
      invitationId: expect.stringMatching(/^inv_/),
      respondent: { name: 'Ana Ruiz', email: email('n1'), outlet: 'Daily News' },
      answers: { responsiveness: 5, recommend: 9, improve: 'Quote me', quoteConsent: true },
    });
    expect(data[4].respondent).toEqual({ name: 'Zoë Ångström', email: email('n2'), outlet: 'Le Monde, Paris' });
    expect(res.body.withheld).toEqual([springWithheld(), bobWithheld()]);
    expectNoAnonymousIdentity(JSON.stringify(res.body));
    expect(JSON.stringify(res.body)).not.toContain('A secret client comment');
    expect(JSON.stringify(res.body)).not.toContain('Bea Named');
  });

  it('pages with an opaque cursor that is a position in time, not a key naming the invitation', async () => {
    const seen: string[] = [];
    const withheld = new Map<string, unknown>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(`/v1/responses?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data.map((r: { firstSubmittedAt: string }) => r.firstSubmittedAt));
      for (const g of res.body.withheld) withheld.set(`${g.campaignId}#${g.audience}`, g);
      cursor = res.body.next_cursor;
      if (cursor) expectNoAnonymousIdentity(Buffer.from(cursor, 'base64url').toString('utf8'));
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual([times[0], times[1], times[2], times[4], times[5]]);
    expect([...withheld.values()]).toEqual([springWithheld(), bobWithheld()]);
  });

  it('filters by pro, campaign, audience and time', async () => {
    const bobs = await get(`/v1/responses?proId=${bob}`);
    expect(bobs.body).toMatchObject({ data: [], next_cursor: null, withheld: [bobWithheld()] });

    const reporters = await get(`/v1/responses?campaignId=${spring}&audience=reporter`);
    expect(reporters.body.data.map((r: { firstSubmittedAt: string }) => r.firstSubmittedAt)).toEqual([times[0], times[1], times[2]]);
    expect(reporters.body.withheld).toEqual([]);

    const janeReporters = await get(`/v1/responses?proId=${jane}&audience=reporter`);
    expect(janeReporters.body.data).toHaveLength(5);

    const clients = await get('/v1/responses?audience=client');
    expect(clients.body).toMatchObject({ data: [], withheld: [springWithheld()] });

    // since is inclusive, until exclusive; an offset is read as the instant it names.
    const window = await get(`/v1/responses?since=${times[1]}&until=${encodeURIComponent(new Date(Date.parse(times[4]!)).toISOString().replace('Z', '+00:00'))}`);
    expect(window.status).toBe(200);
    expect(window.body.data.map((r: { firstSubmittedAt: string }) => r.firstSubmittedAt)).toEqual([times[1], times[2]]);
    expect(window.body.withheld).toEqual([springWithheld()]);

    // A cursor reused with an earlier `until` leaves nothing.
    const first = await get('/v1/responses?limit=3');
    const past = await get(`/v1/responses?cursor=${first.body.next_cursor}&until=${times[1]}`);
    expect(past.status).toBe(200);
    expect(past.body).toMatchObject({ data: [], next_cursor: null });

    const later = await get('/v1/responses?since=2030-03-03');
    expect(later.body).toMatchObject({ data: [], withheld: [], next_cursor: null });
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
    expect(await field('limit=101')).toEqual(['limit']);
    expect((await get(`/v1/responses?proId=${otherPro}`)).status).toBe(404);
    expect((await get(`/v1/responses?campaignId=${otherCampaign}`)).status).toBe(404);
    expect((await get(`/v1/testimonials?campaignId=${otherCampaign}`)).status).toBe(404);
    expect((await get(`/v1/responses.csv?proId=${otherPro}`)).status).toBe(404);
    expect((await f.call('GET', '/v1/responses', { key: null })).status).toBe(401);
  });

  it('shows another agency nothing of this one', async () => {
    const res = await other.call('GET', '/v1/responses', { key: other.readKey });
    expect(res.body).toMatchObject({ data: [], withheld: [], next_cursor: null });
  });
});

describe('GET /v1/testimonials', () => {
  it("lists promoters' consented comments with campaign, audience and time; the name only from named rounds; the same group rule", async () => {
    const res = await get('/v1/testimonials');
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([
      {
        quote: QUOTED,
        recommend: 10,
        proId: jane,
        campaignId: spring,
        campaignName: 'Spring Launch',
        audience: 'reporter',
        attribution: 'anonymous',
        respondent: null,
        period: '2030-03',
        firstSubmittedAt: times[0],
        submittedAt: new Date(BASE + 3_600_000).toISOString(),
      },
      expect.objectContaining({ quote: FORMULA, recommend: 9, respondent: null, firstSubmittedAt: times[1] }),
      expect.objectContaining({ quote: 'Quote me', campaignId: tour, attribution: 'named', respondent: { name: 'Ana Ruiz', outlet: 'Daily News' } }),
    ]);
    // The lone anonymous client's quotable comment is held back with its group.
    expect(res.body.withheld).toEqual([springWithheld()]);
    expectNoAnonymousIdentity(JSON.stringify(res.body));
    expect(JSON.stringify(res.body)).not.toContain(email('n1'));

    const named = await get(`/v1/testimonials?campaignId=${tour}&limit=1`);
    expect(named.body.data).toHaveLength(1);
    expect(named.body.next_cursor).toBeNull();
    expect((await get('/v1/testimonials?since=bad')).status).toBe(400);
  });
});

describe('GET /v1/responses.csv', () => {
  it('streams RFC 4180 CSV with the documented columns: quoting, unicode, formulas neutralised, anonymous rows without identity, withheld groups last', async () => {
    const res = await f.app.request('/v1/responses.csv', { headers: { Authorization: `Bearer ${f.readKey}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('text/csv; charset=utf-8; header=present');
    expect(res.headers.get('Content-Disposition')).toBe('attachment; filename="responses.csv"');
    const text = await res.text();
    expect(text.endsWith('\r\n')).toBe(true);
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual([...RESPONSE_CSV_COLUMNS]);
    expect(header!.slice(0, 3)).toEqual(['record', 'first_submitted_at', 'submitted_at']);
    const col = (row: string[] | undefined, name: (typeof RESPONSE_CSV_COLUMNS)[number]) => row![RESPONSE_CSV_COLUMNS.indexOf(name)];
    expect(rows.map((r) => col(r, 'record'))).toEqual(['response', 'response', 'response', 'response', 'response', 'withheld', 'withheld']);

    const [r1, r2, r3, n1] = rows;
    expect(col(r1, 'improve')).toBe(QUOTED);
    expect(text).toContain('"Always ""on it"", even on weekends"');
    expect(col(r1, 'listening')).toBe('4');
    expect(col(r1, 'relevance')).toBe('');
    expect(col(r1, 'quote_consent')).toBe('true');
    expect(col(r1, 'revision')).toBe('2');
    expect(col(r1, 'first_submitted_at')).toBe(times[0]);
    // The formula a respondent typed into the comment reaches the sheet as text.
    expect(col(r2, 'improve')).toBe(`'${FORMULA}`);
    expect(col(r3, 'improve')).toBe(UNICODE);
    expect(col(r3, 'relevance')).toBe('2');
    expect(col(r1, 'respondent_email')).toBe('');
    expect(col(r1, 'invitation_id')).toBe('');
    expect(col(n1, 'respondent_name')).toBe('Ana Ruiz');
    expect(col(n1, 'respondent_email')).toBe(email('n1'));
    expect(col(n1, 'respondent_outlet')).toBe('Daily News');
    expect(col(rows[4], 'respondent_outlet')).toBe('Le Monde, Paris');
    expect(col(rows[4], 'respondent_name')).toBe('Zoë Ångström');
    expect(rows[5]!.filter((c) => c !== '')).toEqual(['withheld', spring, 'Spring Launch', 'client', '1']);
    expect(rows[6]!.filter((c) => c !== '')).toEqual(['withheld', bobLaunch, 'Bob Launch', 'colleague', '3']);
    expectNoAnonymousIdentity(text);
    expect(text).not.toContain('A secret client comment');
  });

  it('has the columns the design notes document', () => {
    const notes = readFileSync(new URL('../../../../../docs/DESIGN-NOTES.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
    expect(notes).toContain(`Columns, stable, new ones only appended: \`${RESPONSE_CSV_COLUMNS.join(', ')}\``);
  });

  it('applies the filters, and refuses a bad one with a problem before any CSV', async () => {
    const res = await f.app.request(`/v1/responses.csv?campaignId=${spring}`, { headers: { Authorization: `Bearer ${f.readKey}` } });
    const rows = parseCsv(await res.text());
    expect(rows).toHaveLength(1 + 3 + 1);
    expect(rows.at(-1)![0]).toBe('withheld');

    const bad = await get('/v1/responses.csv?limit=5');
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ field: 'limit', message: 'is not a known parameter' }]);
  });
});

describe('OpenAPI', () => {
  it('documents the three routes, the CSV as text/csv', async () => {
    const document = (await (await f.app.request('/openapi.json')).json()) as any;
    expect(Object.keys(document.paths['/v1/responses.csv'].get.responses[200].content)).toEqual(['text/csv']);
    expect(document.paths['/v1/responses'].get.parameters.map((p: { name: string }) => p.name)).toEqual(['limit', 'cursor', 'proId', 'campaignId', 'audience', 'since', 'until']);
    expect(document.paths['/v1/testimonials'].get.responses[200].content['application/json'].schema.properties).toHaveProperty('withheld');
  });
});
