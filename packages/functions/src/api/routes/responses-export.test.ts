import { beforeAll, describe, expect, it } from 'vitest';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createCampaign, createPro, RESPONSE_CSV_COLUMNS, responsesCsv, type Db, type SurveyResponse } from '@rapport/core';
import { agencyFixture, parseCsv, testDeps, type AgencyFixture, type ApiAnswer } from '@rapport/testing';
import { seedResponses } from './responses.fixtures';

const deps = testDeps();
const { db } = deps;

const ROWS = 20_000;
const BASE = Date.parse('2030-05-01T00:00:00.000Z');

describe('GET /v1/responses.csv at volume', () => {
  let f: AgencyFixture;
  let pro: { proId: string };
  let seeded: SurveyResponse[];

  beforeAll(async () => {
    f = await agencyFixture(deps);
    const at = new Date(BASE);
    pro = await createPro(db, f.agencyId, { name: 'Volume Pro', email: `volume-${f.agencyId.slice(3)}@acme.example` }, at);
    const campaign = await createCampaign(db, f.agencyId, { proId: pro.proId, name: 'Big, "Loud" Launch' }, at);
    // Three responses share each instant, so the internal pages (1,000) end inside a group of
    // equal times: the cursor's position must neither repeat nor skip one.
    seeded = await seedResponses(
      db,
      { agencyId: f.agencyId, proId: pro.proId, campaignId: campaign.campaignId, campaignName: campaign.name, audience: 'reporter', attribution: 'anonymous', period: '2030-05' },
      Array.from({ length: ROWS }, (_, i) => ({
        at: new Date(BASE + Math.floor(i / 3) * 1000).toISOString(),
        answers: { responsiveness: (i % 5) + 1, recommend: i % 11, improve: i % 1000 === 0 ? `=cmd|' /C calc'!A0 #${i}` : `comment ${i}`, quoteConsent: false },
      })),
    );
  }, 120_000);

  it(`exports ${ROWS.toLocaleString('en')} rows, every one exactly once`, async () => {
    const res = await f.app.request(`/v1/responses.csv?proId=${pro.proId}`, { headers: { Authorization: `Bearer ${f.readKey}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual([...RESPONSE_CSV_COLUMNS]);
    expect(rows).toHaveLength(ROWS);

    const col = (name: (typeof RESPONSE_CSV_COLUMNS)[number]) => RESPONSE_CSV_COLUMNS.indexOf(name);
    const comments = rows.map((r) => r[col('improve')]);
    expect(new Set(comments).size).toBe(ROWS);
    // Oldest first: each instant's three in order of their (random) invitation ids.
    const times = rows.map((r) => r[col('first_submitted_at')]!);
    expect(times).toEqual([...times].sort());

    const sample = rows.find((r) => r[col('improve')] === "'=cmd|' /C calc'!A0 #12000")!;
    const source = seeded[12_000]!;
    expect(sample[col('record')]).toBe('response');
    expect(sample[col('first_submitted_at')]).toBe(source.firstSubmittedAt);
    expect(sample[col('campaign_name')]).toBe('Big, "Loud" Launch');
    expect(sample[col('audience')]).toBe('reporter');
    expect(sample[col('attribution')]).toBe('anonymous');
    expect(sample[col('responsiveness')]).toBe('1');
    expect(sample[col('recommend')]).toBe(String(12_000 % 11));
    expect(sample[col('invitation_id')]).toBe('');
    expect(sample[col('respondent_email')]).toBe('');
    expect(text).not.toContain(source.invitationId);
  }, 120_000);

  it('reads the table only as the consumer pulls, and stops when it goes away', async () => {
    let queries = 0;
    const counting: Db = { ...db, doc: { send: (command: unknown) => ((queries += command instanceof QueryCommand ? 1 : 0), db.doc.send(command as never)) } as Db['doc'] };
    const records = await responsesCsv(counting, f.agencyId, {});
    const pulled: string[] = [];
    for await (const record of records) {
      pulled.push(record);
      if (pulled.length === 1 + 1500) break; // the header and a page and a half of rows
    }
    // One page of 1,000 is read at a time (a query each, one more to see past a full page).
    expect(queries).toBeGreaterThanOrEqual(2);
    expect(queries).toBeLessThanOrEqual(4);
    const after = queries;
    await new Promise((r) => setTimeout(r, 50));
    expect(queries).toBe(after);
  });

  it('pages through responses that share one instant, each exactly once', async () => {
    const f = await agencyFixture(deps);
    const at = new Date(BASE);
    const pro = await createPro(db, f.agencyId, { name: 'Same Time', email: `same-${f.agencyId.slice(3)}@acme.example` }, at);
    const campaign = await createCampaign(db, f.agencyId, { proId: pro.proId, name: 'Instant' }, at);
    await seedResponses(
      db,
      { agencyId: f.agencyId, proId: pro.proId, campaignId: campaign.campaignId, campaignName: campaign.name, audience: 'client', attribution: 'named', period: '2030-05' },
      Array.from({ length: 7 }, (_, i) => ({ at: at.toISOString(), answers: { responsiveness: 3, improve: `same ${i}`, quoteConsent: false } })),
    );
    for (const path of ['/v1/responses', `/v1/responses?campaignId=${campaign.campaignId}&audience=client`]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res: ApiAnswer = await f.call('GET', `${path}${path.includes('?') ? '&' : '?'}limit=2${cursor ? `&cursor=${cursor}` : ''}`, { key: f.readKey });
        expect(res.status).toBe(200);
        seen.push(...res.body.data.map((r: { answers: { improve: string } }) => r.answers.improve));
        cursor = res.body.next_cursor;
      } while (cursor && seen.length < 20);
      expect(seen.sort()).toEqual(Array.from({ length: 7 }, (_, i) => `same ${i}`));
    }
  });
});
