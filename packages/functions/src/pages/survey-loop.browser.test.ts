import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { addDays, getResponse, openInvitation, runScheduledJobs, verifyInvitationToken } from '@rapport/core';
import { agencyFixture, isolatedTestDeps, launchBrowser, serveOnFreePort, sesEmails } from '@rapport/testing';
import { inProcessSendQueue, type Deps } from '../deps';

/**
 * The real worker behind an in-process queue we can drain, so the test knows when mail is out; on
 * a table of its own, because the scheduled job it runs sweeps the whole reminder index.
 */
const queue = inProcessSendQueue(() => deps);
let deps: Deps;

describe('the survey loop, end to end', () => {
  let browser: Browser;
  let server: Awaited<ReturnType<typeof serveOnFreePort>>;
  beforeAll(async () => {
    deps = { ...(await isolatedTestDeps()), queue };
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await queue.stop();
    deps?.db.client.destroy();
  });

  it('API round → email in the SES store → link opened in Chromium → answers stored once → no reminder → a revision', async () => {
    const f = await agencyFixture(deps);
    const { createApp } = await import('../api/app');
    server = await serveOnFreePort(createApp(deps).fetch);
    // Links in the emails must point at this server.
    Object.assign(deps.config, { publicUrl: server.url });

    const tag = f.agencyId.slice(-10).toLowerCase();
    const { proId } = (await f.call('POST', '/v1/pros', { body: { name: 'Jane Doe', email: `jane-${tag}@acme.example` } })).body;
    const { campaignId } = (await f.call('POST', '/v1/campaigns', { body: { proId, name: 'Spring Launch' } })).body;
    const addresses = ['ana', 'ben', 'cy'].map((who) => `${who}-${tag}@news.example`);
    const created = await f.call('POST', `/v1/campaigns/${campaignId}/surveys`, {
      body: { recipients: addresses.map((email) => ({ email, audience: 'reporter' })) },
    });
    expect(created.status).toBe(202);
    await queue.drain();

    const [mail, ...others] = await sesEmails({ to: addresses[0]! });
    expect(others).toEqual([]);
    expect(mail!.subject).toBe('How responsive was Jane Doe on the Spring Launch?');
    for (const address of addresses.slice(1)) expect(await sesEmails({ to: address })).toHaveLength(1);

    // Every link in the email, fetched plainly as a mail scanner would: nothing is recorded.
    const links = [...new Set([...mail!.body.html!.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!.replaceAll('&amp;', '&')))];
    expect(links.filter((l) => l.includes('/s/'))).toHaveLength(5);
    for (const link of links) expect((await fetch(link)).status).toBe(200);
    const token = new URL(links.find((l) => l.endsWith('score=4'))!).pathname.split('/')[2]!;
    const ref = verifyInvitationToken(deps.linkSecret, token)!;
    expect(await getResponse(deps.db, ref)).toBeNull();
    expect((await openInvitation(deps.db, ref)).invitation.status).toBe('sent');

    const page = await browser.newPage();
    await page.goto(links.find((l) => l.endsWith('score=4'))!);
    expect(await page.locator('input[name=responsiveness][value="4"]').isChecked()).toBe(true);
    await page.locator('input[name=recommend][value="10"]').check();
    await page.locator('input[name=followThrough][value="4"]').check();
    await page.getByRole('button', { name: 'Send my answers' }).click();
    await expect(page.locator('h1').innerText()).resolves.toBe('Thank you');
    await page.close();

    expect(await getResponse(deps.db, ref)).toMatchObject({ revision: 1, answers: { responsiveness: 4, recommend: 10, followThrough: 4 } });
    const survey = await f.call('GET', `/v1/surveys/${created.body.surveyId}`);
    // An anonymous round's counts move with delivery only: the answered invitation still counts as
    // sent (its list shows it so), and answers count once the close releases them.
    expect(survey.body.counts).toEqual({ pending: 0, sending: 0, sent: 3, responded: 0, bounced: 0, failed: 0, expired: 0, skipped: 0 });
    const listed = (await f.call('GET', `/v1/surveys/${created.body.surveyId}/invitations`)).body.data as { status: string; respondedAt: string | null }[];
    expect(listed.map((i) => [i.status, i.respondedAt])).toEqual([['sent', null], ['sent', null], ['sent', null]]);
    expect(survey.body.responseRatePercent).toBe(0); // released answers only, none before the close

    // Three days on, the scheduled job reminds the two who have not answered, not the one who has.
    // Its jobs reach the worker once the run is over, as from SQS: run at once, in real time, a
    // reminder's lease would read as long expired to the same run's recovery sweep, three days on.
    const queued: Parameters<Deps['queue']['enqueue']>[] = [];
    expect(await runScheduledJobs({ ...deps, queue: { enqueue: async (...job) => void queued.push(job) } }, addDays(deps.now(), 3.01))).toMatchObject({ remindersQueued: 2 });
    for (const job of queued) await queue.enqueue(...job);
    await queue.drain();
    expect(await sesEmails({ to: addresses[0]! })).toHaveLength(1);
    for (const address of addresses.slice(1)) {
      expect((await sesEmails({ to: address })).map((m) => m.subject)).toEqual([
        'How responsive was Jane Doe on the Spring Launch?',
        'Reminder: How responsive was Jane Doe on the Spring Launch?',
      ]);
    }

    // The same link again: the anonymous answer is not shown back, and a second submit replaces it.
    const again = await browser.newPage();
    await again.goto(links.find((l) => l.endsWith('score=4'))!.replace('?score=4', ''));
    expect(await again.locator('input[name=recommend][value="10"]').isChecked()).toBe(false);
    await again.locator('input[name=responsiveness][value="5"]').check();
    await again.locator('input[name=recommend][value="10"]').check();
    await again.getByRole('button', { name: 'Send my answers' }).click();
    await expect(again.locator('h1').innerText()).resolves.toBe('Thank you');
    await again.close();
    expect(await getResponse(deps.db, ref)).toMatchObject({ revision: 2, answers: { responsiveness: 5, recommend: 10 } });
    expect((await getResponse(deps.db, ref))?.answers.followThrough).toBeUndefined();
    expect((await f.call('GET', `/v1/surveys/${created.body.surveyId}`)).body.counts).toMatchObject({ sent: 3, responded: 0 });
  }, 60_000); // a browser, a server and the real engines: slow on a busy machine
});
