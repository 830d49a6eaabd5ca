import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemPorts } from './engines/ports';
import { startLocalSystem, type LocalSystem } from './system';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** The README's ```bash tour blocks, in order: the tour a new user types. */
const tourScript = () =>
  [...readFileSync(`${root}/README.md`, 'utf8').matchAll(/```bash tour\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');

describe("the README's five-minute tour", () => {
  let system: LocalSystem;
  // A data folder, as `npm start` has: its state file tells the CLIs how to reach this instance.
  const dataDir = mkdtempSync(join(tmpdir(), 'rapport-tour-'));
  beforeAll(async () => {
    system = await startLocalSystem({ ...(await systemPorts()), dataDir });
  });
  afterAll(async () => {
    await system?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('never waits without end: no while or until loop, and every for loop counts a few tries', () => {
    const script = tourScript();
    // As a command (a comment may say "until").
    expect(script).not.toMatch(/(^|;|&&|\|\||\bdo|\bthen)\s*(while|until)\b/m);
    for (const [, loop] of script.matchAll(/\bfor \w+ in ([^;]*);/g)) expect(loop).toMatch(/^\$\(seq \d{1,3}\)$/);
  });

  it('works as written against `npm start`', async () => {
    const script = tourScript();
    expect(script).toContain('create-agency');
    const repoBefore = readdirSync(root).sort();
    const { stdout } = await promisify(execFile)('bash', ['-e', '-o', 'pipefail', '-c', script], {
      cwd: root,
      env: {
        ...process.env,
        API: system.urls.api,
        INBOX: system.urls.ses,
        // The CLIs find the instance (its ports, table, secret) from the state file in DATA_DIR alone.
        DATA_DIR: dataDir,
        DYNAMODB_ENDPOINT: '',
        SES_ENDPOINT: '',
        PUBLIC_URL: '',
        LINK_SECRET: '',
      },
      timeout: 150_000,
    });
    // Nothing written into the repository (an exported CSV once was).
    expect(readdirSync(root).sort()).toEqual(repoBefore);
    const lines = stdout.trim().split('\n').map((line) => (line.startsWith('{') ? JSON.parse(line) : line));
    const [agency, health, settings, patched, proId, campaign, campaigns, readKey, refused, round, ...rest] = lines;
    const [answeredAna, answeredDan, answeredEva, status, invitations, reminders, scoresBefore, closing, scores, responses, csvHeader, csvRow, commitment, summaries] = rest;
    expect(agency).toMatchObject({ name: 'Acme PR', timezone: 'Europe/Madrid', apiKey: expect.stringMatching(/^rpk_/) });
    expect(health.status).toBe('ok');
    expect(settings.anonymityThreshold).toBe(5);
    expect(patched).toMatchObject({ anonymityThreshold: 3, throttle: { reporterDays: 60 } });
    expect(proId).toMatch(/^pro_/);
    expect(campaign).toMatchObject({ proId, name: 'Spring Launch', tags: ['launch'] });
    expect(campaigns).toEqual({ data: [campaign], nextCursor: null });
    expect(readKey).toMatchObject({ role: 'read', name: 'dashboard', secret: expect.stringMatching(/^rpk_/) });
    expect(refused).toMatchObject({ status: 400, errors: [{ field: 'anonymityThreshold' }] });
    expect(round).toMatchObject({ accepted: 5, skipped: [{ index: 5, email: 'not an address', reason: 'invalid' }] });
    expect([answeredAna, answeredDan, answeredEva]).toEqual(['200', '200', '200']);
    // Anonymous: the counts move with delivery only; answers are counted once released.
    expect(status).toMatchObject({ surveyId: round.surveyId, counts: { sent: 5, responded: 0 }, responseRatePercent: 0 });
    expect(invitations.data.map((i: { status: string; respondedAt: null }) => [i.status, i.respondedAt])).toEqual(Array(5).fill(['sent', null]));
    expect(reminders).toMatchObject({ job: 'scheduled', remindersQueued: 2, roundsToClose: 0 });
    const inbox = (await (await fetch(`${system.urls.ses}/store`)).json()) as { emails: { subject: string; destination: { to: string[] }; body: { text: string } }[] };
    const subjects = (who: string) => inbox.emails.filter((e) => e.destination.to.join().includes(who)).map((e) => e.subject);
    expect(subjects('ana@news.example')).toEqual(['How responsive was Jane Doe on the Spring Launch?']);
    expect(subjects('ben@acme.example')).toEqual(['How responsive was Jane Doe on the Spring Launch?', 'Reminder: How responsive was Jane Doe on the Spring Launch?']);
    // Nothing before the close; the reporters' batch of three after it (k = 3).
    expect(scoresBefore.periods[0]).toMatchObject({ period: 'total', delivered: 5, responses: 0, total: { n: 0, items: {} } });
    expect(closing).toMatchObject({ job: 'scheduled', roundsToClose: 1 });
    const [total] = scores.periods;
    expect(total).toMatchObject({ period: 'total', delivered: 5, responses: 3, responseRatePercent: 60, total: { n: 3 }, audiences: { reporter: { n: 3 }, colleague: { n: 0, items: {} }, client: { n: 0, items: {} } } });
    expect(total.total.items.responsiveness).toMatchObject({ n: 3, mean: 4 });
    expect(total.total.items.recommend.nps).toMatchObject({ promoters: 1, passives: 1, detractors: 1, score: 0 });
    expect(responses.data).toHaveLength(3);
    for (const row of responses.data) expect(row).toMatchObject({ audience: 'reporter', attribution: 'anonymous', respondent: null, firstSubmittedAt: null, campaignName: 'Spring Launch' });
    expect(csvHeader).toMatch(/^record,first_submitted_at,submitted_at,revision,period,/);
    expect(csvRow).toMatch(/^response,,,,\d{4}-\d{2},pro_/);
    expect(commitment).toMatchObject({ text: 'I will answer reporters within two hours', commitmentId: expect.stringMatching(/^cmt_/) });
    expect(summaries).toMatchObject({ job: 'summaries', agenciesDue: 1, agenciesQueued: 1, sent: 1, failed: 0 });
    const summary = ((await (await fetch(`${system.urls.ses}/store`)).json()) as typeof inbox).emails.find((e) => e.destination.to.join().includes('jane@acme.example'));
    expect(summary!.body.text).toContain('I will answer reporters within two hours');
    expect(summary!.body.text).toMatch(/4\.0/);
    expect(lines).toHaveLength(24);
  }, 180_000); // a dozen CLI processes and HTTP calls, on a machine busy with the other test files
});
