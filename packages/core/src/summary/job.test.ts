import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedTestDeps, sesEmails } from '@rapport/testing';
import type { Db } from '../db/client';
import type { Mailer } from '../email/mailer';
import { createAgency, updateSettings } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign } from '../campaign/campaign';
import { createRound } from '../survey/round';
import { submitResponse } from '../survey/response';
import type { Audience } from '../survey/instrument';
import { TIPS } from './tips';
import { runSummaries, type SummaryDeps } from './job';

/** The job walks every agency, so it runs on a table of its own. */
let deps: SummaryDeps;
let db: Db;
beforeAll(async () => {
  const d = await isolatedTestDeps();
  db = d.db;
  deps = { db, mailer: d.mailer as Mailer, mailFrom: 'summaries@rapport.example', publicUrl: 'http://localhost:3000' };
});
afterAll(() => db.client.destroy());

let n = 0;
type Answer = { audience: Audience; responsiveness: number; improve?: string } & Record<string, unknown>;

/** An agency (k = 3) with pros, each answered in a round that begins at `at`; answers come an hour later. */
async function agencyWith(timezone: string, at: string, pros: Record<string, Answer[]>, settings: Record<string, unknown> = {}) {
  const when = new Date(at);
  const tag = `${++n}-${when.getTime()}`;
  const agency = await createAgency(db, { name: `Summaries ${tag}`, timezone }, when);
  await updateSettings(db, agency.agencyId, { anonymityThreshold: 3, ...settings }, when);
  const emails: Record<string, string> = {};
  for (const [name, answers] of Object.entries(pros)) {
    const email = `${name.toLowerCase()}-${tag}@acme.example`;
    emails[name] = email;
    const pro = await createPro(db, agency.agencyId, { name, email }, when);
    if (answers.length === 0) continue;
    const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, when);
    const recipients = answers.map((a, i) => ({ email: `r${i}-${name}-${tag}@news.example`, audience: a.audience }));
    const { accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients }, when);
    for (const [i, { audience: _a, ...answer }] of answers.entries()) {
      await submitResponse(db, accepted[i]!, answer, new Date(when.getTime() + 3_600_000 + i * 60_000));
    }
  }
  return { agencyId: agency.agencyId, emails };
}

const reporters = (scores: number[], extra: Record<string, unknown> = {}): Answer[] =>
  scores.map((responsiveness) => ({ audience: 'reporter', responsiveness, ...extra }));

describe('the summary job', () => {
  it('sends each pro with news one summary per period, under a double and a concurrent run; quiet pros get none', async () => {
    // Week of Monday 4 March 2030 (UTC); the slot is Monday 11 March 09:00.
    const { emails } = await agencyWith('UTC', '2030-03-04T10:00:00Z', { Jane: reporters([4, 5, 3]), Bob: reporters([2]), Cy: [] });
    const slot = new Date('2030-03-11T09:00:00Z');
    const [a, b] = await Promise.all([runSummaries(deps, slot), runSummaries(deps, slot)]);
    const again = await runSummaries(deps, new Date('2030-03-11T10:00:00Z'));
    expect(a.sent + b.sent + again.sent).toBe(2);
    expect(a.alreadySent + b.alreadySent + again.alreadySent).toBe(4);
    expect(again).toMatchObject({ sent: 0, quiet: 1, alreadySent: 2, failed: 0 });
    for (const who of ['Jane', 'Bob']) expect(await sesEmails({ to: emails[who]! })).toHaveLength(1);
    expect(await sesEmails({ to: emails.Cy! })).toEqual([]);
    // Before the slot, the week is not due yet: nothing more, and nothing early for the next week.
    expect((await runSummaries(deps, new Date('2030-03-18T08:59:00Z'))).sent).toBe(0);
  });

  it('reaches Auckland and Los Angeles at their Monday 09:00 across the DST changes', async () => {
    // Auckland leaves DST on 7 April 2030: Monday 8 April 09:00 NZST is 21:00 UTC on the 7th.
    const nz = await agencyWith('Pacific/Auckland', '2030-04-01T01:00:00Z', { Aroha: reporters([4, 4, 5]) });
    // Los Angeles enters DST on 10 March 2030: Monday 11 March 09:00 PDT is 16:00 UTC.
    const la = await agencyWith('America/Los_Angeles', '2030-03-05T18:00:00Z', { Lupe: reporters([5, 4, 4]) });
    const firstSent = async (email: string, from: string, hours: number) => {
      for (let h = 0; h < hours; h++) {
        const now = new Date(Date.parse(from) + h * 3_600_000);
        await runSummaries(deps, now);
        if ((await sesEmails({ to: email })).length > 0) return now.toISOString();
      }
      return null;
    };
    expect(await firstSent(nz.emails.Aroha!, '2030-04-07T17:00:00Z', 8)).toBe('2030-04-07T21:00:00.000Z');
    expect(await firstSent(la.emails.Lupe!, '2030-03-11T13:00:00Z', 8)).toBe('2030-03-11T16:00:00.000Z');
  });

  it('names the weakest dimension with its tips, quotes only groups that meet k, and escapes hostile comments', async () => {
    const hostile = '<script>alert(1)</script> "><img src=x onerror=alert(2)>';
    const { emails } = await agencyWith('UTC', '2030-05-06T10:00:00Z', {
      Jane: [
        ...reporters([4, 4, 5], { relevance: 2, listening: 4, followThrough: 5, improve: hostile }),
        { audience: 'client', responsiveness: 3, anticipation: 1, improve: 'Only two clients: must stay private' },
        { audience: 'client', responsiveness: 3, anticipation: 1 },
      ],
    });
    const run = await runSummaries(deps, new Date('2030-05-13T09:00:00Z'));
    expect(run.sent).toBeGreaterThanOrEqual(1);
    const [mail] = await sesEmails({ to: emails.Jane! });
    const { html, text } = mail!.body as { html: string; text: string };
    // Relevance (mean 2, n = 3) is the weakest dimension with n ≥ k; anticipation (n = 2) is below k.
    expect(text).toContain('Relevant and accurate');
    expect(TIPS.relevance.filter((t) => text.includes(t.text)).length).toBeGreaterThanOrEqual(2);
    expect(text).not.toContain('Only two clients');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('sends admins the agency summary once, and sends nothing for a month forced by hand twice', async () => {
    const { emails } = await agencyWith('UTC', '2030-06-03T10:00:00Z', { Jane: reporters([5, 5, 4]), Bob: reporters([1, 2, 1]) }, {
      summary: { adminEmails: ['boss-summary@acme.example'], cadence: 'monthly' },
    });
    const forced = await runSummaries(deps, new Date('2030-07-15T12:00:00Z'), { period: '2030-06' });
    expect(forced.sent).toBeGreaterThanOrEqual(3);
    await runSummaries(deps, new Date('2030-07-15T12:00:00Z'), { period: '2030-06' });
    expect(await sesEmails({ to: emails.Jane! })).toHaveLength(1);
    const admin = await sesEmails({ to: 'boss-summary@acme.example' });
    expect(admin).toHaveLength(1);
    expect(admin[0]!.body.text).toContain('Jane');
    expect(admin[0]!.body.text).toContain('Bob');
  });
});
