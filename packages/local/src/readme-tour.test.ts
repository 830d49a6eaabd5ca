import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './engines/ports';
import { startLocalSystem, type LocalSystem } from './system';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** The README's ```bash tour blocks, in order: the tour a new user types. */
const tourScript = () =>
  [...readFileSync(`${root}/README.md`, 'utf8').matchAll(/```bash tour\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');

describe("the README's five-minute tour", () => {
  let system: LocalSystem;
  // A data folder, as `npm start` has: the job CLI signs its links with the secret kept there.
  const dataDir = mkdtempSync(join(tmpdir(), 'rapport-tour-'));
  beforeAll(async () => {
    system = await startLocalSystem({ port: await freePort(), dynamoDbPort: await freePort(), sesPort: await freePort(), dataDir });
  });
  afterAll(async () => {
    await system?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('works as written against `npm start`', async () => {
    const script = tourScript();
    expect(script).toContain('create-agency');
    const { stdout } = await promisify(execFile)('bash', ['-e', '-o', 'pipefail', '-c', script], {
      cwd: root,
      env: {
        ...process.env,
        API: system.urls.api,
        INBOX: system.urls.ses,
        PORT: new URL(system.urls.api).port,
        DYNAMODB_PORT: new URL(system.urls.dynamodb).port,
        SES_PORT: new URL(system.urls.ses).port,
        DATA_DIR: dataDir,
      },
      timeout: 150_000,
    });
    const lines = stdout.trim().split('\n').map((line) => (line.startsWith('{') ? JSON.parse(line) : line));
    const [agency, health, settings, patched, proId, campaign, campaigns, readKey, refused, round, answered, status, invitations, job, scores, commitment, summaries] = lines;
    expect(agency).toMatchObject({ name: 'Acme PR', timezone: 'Europe/Madrid', apiKey: expect.stringMatching(/^rpk_/) });
    expect(health.status).toBe('ok');
    expect(settings.anonymityThreshold).toBe(5);
    expect(patched).toMatchObject({ anonymityThreshold: 6, throttle: { reporterDays: 60 } });
    expect(proId).toMatch(/^pro_/);
    expect(campaign).toMatchObject({ proId, name: 'Spring Launch', tags: ['launch'] });
    expect(campaigns).toEqual({ data: [campaign], next_cursor: null });
    expect(readKey).toMatchObject({ role: 'read', name: 'dashboard', secret: expect.stringMatching(/^rpk_/) });
    expect(refused).toMatchObject({ status: 400, errors: [{ field: 'anonymityThreshold' }] });
    expect(round).toMatchObject({ accepted: 3, skipped: [{ index: 3, email: 'not an address', reason: 'invalid' }] });
    expect(answered).toBe('200');
    expect(status).toMatchObject({ surveyId: round.surveyId, counts: { sent: 2, responded: 1 }, responseRate: 1 / 3 });
    expect(invitations.data.map((i: { email: string; status: string }) => [i.email, i.status]).sort()).toEqual([
      ['ana@news.example', 'responded'],
      ['ben@acme.example', 'sent'],
      ['cleo@brand.example', 'sent'],
    ]);
    expect(job).toMatchObject({ job: 'scheduled', remindersQueued: 2, roundsClosed: 0 });
    const inbox = (await (await fetch(`${system.urls.ses}/store`)).json()) as { emails: { subject: string; destination: { to: string[] } }[] };
    const subjects = (who: string) => inbox.emails.filter((e) => e.destination.to.join().includes(who)).map((e) => e.subject);
    expect(subjects('ana@news.example')).toEqual(['How responsive was Jane Doe on the Spring Launch?']);
    expect(subjects('ben@acme.example')).toEqual(['How responsive was Jane Doe on the Spring Launch?', 'Reminder: How responsive was Jane Doe on the Spring Launch?']);
    // One answer is below the threshold of 6 set earlier: its n and nothing else.
    expect(scores.periods).toEqual([
      { period: 'total', delivered: 3, responses: 1, responseRate: 1 / 3, total: { n: 1, withheld: true }, audiences: { reporter: { n: 1, withheld: true }, colleague: { n: 0, withheld: true }, client: { n: 0, withheld: true } } },
    ]);
    expect(commitment).toMatchObject({ text: 'I will answer reporters within two hours', commitmentId: expect.stringMatching(/^cmt_/) });
    expect(summaries).toMatchObject({ job: 'summaries', agenciesDue: 1, sent: 1, quiet: 0, failed: 0 });
    const summary = ((await (await fetch(`${system.urls.ses}/store`)).json()) as { emails: { subject: string; destination: { to: string[] }; body: { text: string } }[] }).emails.find((e) =>
      e.destination.to.join().includes('jane@acme.example'),
    );
    // One answer, below the threshold of 6: the summary gives counts and the commitment, no scores.
    expect(summary!.body.text).toContain('I will answer reporters within two hours');
    expect(summary!.body.text).toContain('n = 1 (fewer than 6: hidden for anonymity)');
    expect(lines).toHaveLength(17);
  }, 180_000); // a dozen CLI processes and HTTP calls, on a machine busy with the other test files
});
