import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '@rapport/functions';
import { listMembers, loginChoices, loginHash } from '@rapport/core';
import { sesEmails, testConfig, testDeps } from '@rapport/testing';
import { demoGuide, seedDemo } from './demo';
import { PROS } from './demo-data';

const at = new Date('2026-12-06T12:00:00Z');
const deps = testDeps({ now: () => at });
afterAll(() => deps.db.client.destroy());
const app = createApp(deps);

describe('npm run demo', () => {
  it('seeds a year of an agency whose scores, trends, summaries and testimonials show at once', async () => {
    // What `npm start -- --demo` (`npm run demo`) runs before its jobs start, on this run's engines.
    const logged: string[] = [];
    const result = await seedDemo(testConfig(), at, (line) => logged.push(line));
    expect(logged).toHaveLength(12);
    expect(logged[0]).toMatch(/^Demo: 2025-12 seeded \(4 rounds; \d+ answers so far\)\.$/);
    expect(result).toMatchObject({
      agencyName: 'Harbour & Finch PR',
      months: ['2025-12', '2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06', '2026-07', '2026-08', '2026-09', '2026-10', '2026-11'],
      summaryPeriod: '2026-11',
      rounds: 65,
      invitations: 489,
      answers: 377,
      earlyWarnings: 7,
      summaries: 5,
      testimonials: 43,
      openRound: { pro: 'Maya Okafor', campaign: 'Brightwave Audio: winter launch' },
    });
    expect(result.pros.map((p) => p.name)).toEqual(['Maya Okafor', 'Daniel Reyes', 'Sofia Lindqvist', 'Tom Becker']);
    // What to look at next: the key, the curl lines, the inbox.
    const guide = demoGuide(result, { api: 'http://localhost:3000', inbox: 'http://localhost:8005/' });
    expect(guide).toContain(`Its admin API key (shown once): ${result.apiKey}`);
    expect(guide).toContain(`curl -s "http://localhost:3000/v1/scores" -H "Authorization: Bearer ${result.apiKey}"`);
    expect(guide).toContain(`curl -s "http://localhost:3000/v1/pros/${result.pros[0]!.proId}/summary?period=2026-11" -H "Authorization: Bearer ${result.apiKey}"`);
    expect(guide).toContain('    http://localhost:8005/\n');
    expect(guide).toContain(
      'The console: open http://localhost:3000/login and sign in as olivia.grant@harbourfinch.example (Olivia Grant, the admin: the team, every pro, settings)\n' +
        '  or as maya.okafor@harbourfinch.example (Maya Okafor, a pro: her own results and rounds). The sign-in link is in the inbox at http://localhost:8005/\n',
    );
    // Who may sign in to the console: the admin member, and each pro by the address on record.
    expect((await listMembers(deps.db, result.agencyId)).map((m) => [m.name, m.email, m.role])).toEqual([['Olivia Grant', 'olivia.grant@harbourfinch.example', 'admin']]);
    expect(result.pros.map((p) => p.email)).toEqual(PROS.map((p) => p.email));
    for (const email of ['olivia.grant@harbourfinch.example', ...PROS.map((p) => p.email)]) {
      const choices = (await loginChoices(deps.db, loginHash(email))).filter((c) => c.identity.agencyId === result.agencyId);
      expect(choices.map((c) => c.role), email).toEqual([email.startsWith('olivia') ? 'Admin' : 'Pro']);
    }

    const get = async (path: string) => {
      const res = await app.request(path, { headers: { Authorization: `Bearer ${result.apiKey}` } });
      expect(res.status, path).toBe(200);
      return (await res.json()) as any;
    };
    // Every pro has a score to show (n ≥ k = 3) in every one of the twelve months.
    const months: Record<string, (number | null)[]> = {};
    for (const pro of result.pros) {
      const scores = await get(`/v1/pros/${pro.proId}/scores?from=2025-12&to=2026-11&granularity=month`);
      expect(scores.anonymityThreshold).toBe(3);
      months[pro.name] = scores.periods.map((p: any) => (p.total.items.responsiveness?.n >= 3 ? Math.round(p.total.items.responsiveness.mean * 10) / 10 : null));
    }
    // The story, the same on every run: Tom slips all year, Maya climbs, Sofia dips in the spring and recovers after her commitment.
    expect(months).toEqual({
      'Maya Okafor': [3.5, 3.3, 4.1, 3.3, 3.5, 4.2, 4.3, 3.9, 4.4, 3.3, 4.2, 4.7],
      'Daniel Reyes': [3, 4, 3.1, 4, 3.8, 4, 4.1, 4, 3.8, 4.1, 4.4, 3.8],
      'Sofia Lindqvist': [3.8, 4, 3.3, 3.6, 3.3, 3, 2.4, 3.5, 3.5, 4, 4.2, 4.1],
      'Tom Becker': [4.2, 4.6, 4.2, 3.9, 3.8, 3.9, 3.3, 3.4, 3, 3.4, 2.7, 2.5],
    });
    const agency = await get('/v1/scores?from=2025-12&to=2026-11&granularity=total');
    // Listed in pro id order (ids of one instant are random after their time part): compared by name.
    const totals = agency.pros.map((p: any) => [p.name, p.n, Math.round(p.items.responsiveness.mean * 100) / 100, Math.round(p.items.responsiveness.percentResponsive.percent)]);
    expect(totals.sort((a: string[], b: string[]) => a[0]!.localeCompare(b[0]!))).toEqual([
      ['Daniel Reyes', 92, 3.89, 71],
      ['Maya Okafor', 91, 4.02, 71],
      ['Sofia Lindqvist', 96, 3.6, 61],
      ['Tom Becker', 91, 3.58, 49],
    ]);

    // Commitments, each with the month it was made in; the round still open today.
    const commitments = await Promise.all(result.pros.map(async (p) => (await get(`/v1/pros/${p.proId}/commitments`)).data.map((c: any) => [c.text, c.createdAt.slice(0, 7)])));
    expect(commitments).toEqual([
      [['I will send coverage reports every Monday, before anyone has to ask.', '2026-03']],
      [],
      [['I will reply to every reporter the same day, even if only to say when I will have an answer.', '2026-06']],
      [],
    ]);
    expect(await get(`/v1/surveys/${result.openRound.roundId}`)).toMatchObject({ status: 'open', counts: { sent: 6 } });

    const testimonials = await get('/v1/testimonials?limit=100');
    expect(testimonials.data).toHaveLength(43);

    // Last month's summaries: one per pro and the agency's to its admin, in the SES inbox.
    const tom = await sesEmails({ to: 'tom.becker@harbourfinch.example' });
    const summary = tom.find((m) => m.subject.startsWith('Your responsiveness in November 2026'))!;
    expect(summary.body.text).toContain('MONTH BY MONTH');
    expect(summary.body.text).toContain('WHERE TO FOCUS\nRelevant and accurate');
    const sofia = (await sesEmails({ to: 'sofia.lindqvist@harbourfinch.example' })).find((m) => m.subject.startsWith('Your responsiveness'))!;
    expect(sofia.body.text).toContain('YOUR COMMITMENT\nSince 1 June 2026: “I will reply to every reporter the same day');
    const admin = await sesEmails({ to: 'olivia.grant@harbourfinch.example' });
    expect(admin.map((m) => m.subject)).toEqual(['Harbour & Finch PR: team responsiveness in November 2026']);
    expect(admin[0]!.body.text).toMatch(/NEEDS ATTENTION[^]*Tom Becker[^]*BIGGEST MOVERS/);
    // Early warnings in the last month, when the agency turned them on: to the pros, about low answers.
    const warned = (await Promise.all(result.pros.map((p) => sesEmails({ to: PROS.find((d) => d.name === p.name)!.email })))).flat().filter((m) => !m.subject.startsWith('Your responsiveness'));
    expect(warned).toHaveLength(7);
  }, 120_000);
});
