import { beforeAll, describe, expect, it } from 'vitest';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createCampaign, createPro, RESPONSE_CSV_COLUMNS, responsesCsv, type Db, type SurveyResponse } from '@rapport/core';
import { agencyFixture, parseCsv, testDeps, type AgencyFixture, type ApiAnswer } from '@rapport/testing';
import { seedResponses, type SeedGroup } from './responses.fixtures';

const deps = testDeps();
const { db } = deps;

const ROWS = 20_000;
const BASE = Date.parse('2030-05-01T00:00:00.000Z');
const at = (days: number) => new Date(BASE + days * 86_400_000).toISOString();

/** A seeded row's place in the released lists. */
const rowKey = (r: SurveyResponse) => r.release!.rowKey;

describe('GET /v1/responses.csv at volume', () => {
  let f: AgencyFixture;
  let pro: { proId: string };
  let seeded: SurveyResponse[];

  beforeAll(async () => {
    f = await agencyFixture(deps);
    pro = await createPro(db, f.agencyId, { name: 'Volume Pro', email: `volume-${f.agencyId.slice(3)}@acme.example` }, new Date(BASE));
    const campaign = await createCampaign(db, f.agencyId, { proId: pro.proId, name: 'Big, "Loud" Launch' }, new Date(BASE));
    const group: SeedGroup = { agencyId: f.agencyId, proId: pro.proId, campaignId: campaign.campaignId, campaignName: campaign.name, audience: 'reporter', attribution: 'anonymous', period: '2030-05' };
    const rows = Array.from({ length: ROWS }, (_, i) => ({
      answers: { responsiveness: (i % 5) + 1, recommend: i % 11, improve: i % 1000 === 0 ? `=cmd|' /C calc'!A0 #${i}` : `comment ${i}`, quoteConsent: false },
    }));
    // Four batches of 5,000, two of them released at the same instant: the internal pages (1,000)
    // end inside batches, whose rows share a release instant and batch and differ only by their
    // random key, so the cursor must neither repeat nor skip one.
    const quarter = ROWS / 4;
    const releases = [at(0), at(1), at(1), at(2)];
    seeded = [];
    for (const [b, releasedAt] of releases.entries()) seeded.push(...(await seedResponses(db, group, rows.slice(b * quarter, (b + 1) * quarter), releasedAt)));
  }, 120_000);

  it(`exports ${ROWS.toLocaleString('en')} rows, every one exactly once, in release order`, async () => {
    const res = await f.app.request(`/v1/responses.csv?proId=${pro.proId}`, { headers: { Authorization: `Bearer ${f.readKey}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual([...RESPONSE_CSV_COLUMNS]);
    expect(rows).toHaveLength(ROWS);

    const col = (name: (typeof RESPONSE_CSV_COLUMNS)[number]) => RESPONSE_CSV_COLUMNS.indexOf(name);
    const comments = rows.map((r) => r[col('improve')]!);
    expect(new Set(comments).size).toBe(ROWS);
    // In the order of the rows' keys (release, batch, random): each key strictly after the one before.
    const byComment = new Map(seeded.map((r) => [r.answers.improve!.startsWith('=') ? `'${r.answers.improve}` : r.answers.improve!, r]));
    const keysInOrder = comments.map((c) => rowKey(byComment.get(c)!));
    expect(keysInOrder.every((k, i) => i === 0 || keysInOrder[i - 1]! < k)).toBe(true);
    expect(keysInOrder).toEqual(seeded.map(rowKey).sort());
    // Each row carries its batch's release.
    expect(rows.every((r) => r[col('released_at')] === byComment.get(r[col('improve')]!)!.release!.releasedAt)).toBe(true);
    expect(rows.every((r) => r[col('batch_id')] === byComment.get(r[col('improve')]!)!.release!.batchId)).toBe(true);
    expect(new Set(rows.map((r) => r[col('batch_id')])).size).toBe(4);

    const sample = rows.find((r) => r[col('improve')] === "'=cmd|' /C calc'!A0 #12000")!;
    const source = seeded[12_000]!;
    expect(sample[col('record')]).toBe('response');
    expect(sample[col('released_at')]).toBe(at(1));
    expect(sample[col('batch_id')]).toBe(source.release!.batchId);
    expect(sample[col('campaign_name')]).toBe('Big, "Loud" Launch');
    expect(sample[col('period')]).toBe('2030-05');
    expect(sample[col('audience')]).toBe('reporter');
    expect(sample[col('attribution')]).toBe('anonymous');
    expect(sample[col('responsiveness')]).toBe('1');
    expect(sample[col('recommend')]).toBe(String(12_000 % 11));
    // An anonymous row: no ids, no time of answer, no revision.
    for (const name of ['first_submitted_at', 'submitted_at', 'revision', 'survey_id', 'invitation_id', 'respondent_email', 'withheld_n'] as const) expect(sample[col(name)], name).toBe('');
    expect(text).not.toContain(source.invitationId);
    expect(text).not.toContain(source.roundId);
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

  it('pages through rows released at one instant, each exactly once, in key order', async () => {
    const f = await agencyFixture(deps);
    const pro = await createPro(db, f.agencyId, { name: 'Same Time', email: `same-${f.agencyId.slice(3)}@acme.example` }, new Date(BASE));
    const campaign = await createCampaign(db, f.agencyId, { proId: pro.proId, name: 'Instant' }, new Date(BASE));
    const group: SeedGroup = { agencyId: f.agencyId, proId: pro.proId, campaignId: campaign.campaignId, campaignName: campaign.name, audience: 'client', attribution: 'anonymous', period: '2030-05' };
    // Two batches released at the same instant, one anonymous, one named.
    const released = [
      ...(await seedResponses(db, group, Array.from({ length: 7 }, (_, i) => ({ answers: { responsiveness: 3, improve: `anonymous ${i}`, quoteConsent: false } })), at(0))),
      ...(await seedResponses(db, { ...group, attribution: 'named' }, Array.from({ length: 7 }, (_, i) => ({ answers: { responsiveness: 3, improve: `named ${i}`, quoteConsent: false } })), at(0))),
    ];
    const expected = [...released].sort((a, b) => (rowKey(a) < rowKey(b) ? -1 : 1)).map((r) => r.answers.improve);
    for (const path of ['/v1/responses', `/v1/responses?campaignId=${campaign.campaignId}&audience=client`]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res: ApiAnswer = await f.call('GET', `${path}${path.includes('?') ? '&' : '?'}limit=2${cursor ? `&cursor=${cursor}` : ''}`, { key: f.readKey });
        expect(res.status).toBe(200);
        seen.push(...res.body.data.map((r: { answers: { improve: string } }) => r.answers.improve));
        cursor = res.body.nextCursor;
      } while (cursor && seen.length < 40);
      expect(seen).toEqual(expected);
    }
  });
});
