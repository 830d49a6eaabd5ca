import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, createAgency, createCampaign, createPro, createRound } from '@rapport/core';
import { deliver } from '@rapport/core/sending/dispatch';
import { deliveryDeps, type Deps } from '@rapport/functions';
import { isolatedTestDeps, runTool, sesEmails } from '@rapport/testing';

/** On a table of its own: the job sweeps whole indexes. */
let deps: Deps;
beforeAll(async () => {
  deps = await isolatedTestDeps();
});
afterAll(() => deps.db.client.destroy());

const job = (args: string[]) =>
  runTool('packages/local/src/job.ts', args, {
    DYNAMODB_ENDPOINT: deps.config.dynamoEndpoint,
    SES_ENDPOINT: deps.config.sesEndpoint,
    TABLE_NAME: deps.config.table,
    LINK_SECRET: deps.linkSecret,
  });

// Each run is a Node process of its own: seconds apiece on a busy machine.
describe('npm run job', { timeout: 90_000 }, () => {
  it('runs the scheduled job once, as if at --at, and sends the reminders it finds', async () => {
    const now = new Date();
    const { db } = deps;
    const agency = await createAgency(db, { name: 'Job CLI' }, now);
    const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane-job-${now.getTime()}@acme.example` }, now);
    const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, now);
    const email = `reporter-job-${now.getTime()}@news.example`;
    const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients: [{ email, audience: 'reporter' }] }, now);
    await deliver(deliveryDeps(deps), { kind: 'invitation', roundId: round.roundId, invitationId: accepted[0]!.invitationId });

    const at = addDays(now, 3.5).toISOString();
    const ran = await job(['scheduled', '--at', at]);
    expect(ran.stderr).toBe('');
    expect(ran.result).toEqual({ job: 'scheduled', at, roundsToClose: 0, releasesFinished: 0, remindersQueued: 1, requeued: 0, recorded: 0, resent: 0, eventsFannedOut: 0, deliveriesQueued: 0, retentionAgencies: 0, commentsRemoved: 0, identitiesErased: 0 });
    expect((await sesEmails({ to: email })).map((m) => m.subject)).toEqual([
      'How responsive was Jane Doe on the Spring Launch?',
      'Reminder: How responsive was Jane Doe on the Spring Launch?',
    ]);
    expect((await job(['scheduled', '--at', at])).result).toEqual({ job: 'scheduled', at, roundsToClose: 0, releasesFinished: 0, remindersQueued: 0, requeued: 0, recorded: 0, resent: 0, eventsFannedOut: 0, deliveriesQueued: 0, retentionAgencies: 0, commentsRemoved: 0, identitiesErased: 0 });
  });

  it('explains a bad job or time in one sentence and exits 2', async () => {
    const badAt = await job(['scheduled', '--at', 'tomorrow']);
    expect(badAt.code).toBe(2);
    expect(badAt.stderr).toMatch(/^--at must be an ISO 8601 time such as 2026-12-01T09:00:00Z \(got "tomorrow"\)\./);
    const unknown = await job(['reminders']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^Unknown job "reminders"\./);
    expect(badAt.stdout + unknown.stdout).toBe('');
  });
});
