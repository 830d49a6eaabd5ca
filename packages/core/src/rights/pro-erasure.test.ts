import { describe, expect, it } from 'vitest';
import { sesEmails, testConfig, testDeps } from '@rapport/testing';
import { createAgency } from '../agency/agency';
import { createCampaign } from '../campaign/campaign';
import { createSesMailer } from '../email/mailer';
import { createPro } from '../pro/pro';
import type { DeliveryDeps } from '../sending/deliver';
import { deliver } from '../sending/dispatch';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../db/keys';
import { createRound } from '../survey/round';
import { erasePro } from './pro-erasure';

const config = testConfig();
const { db, linkSecret } = testDeps();
const deliveryDeps: DeliveryDeps = {
  db,
  mailer: createSesMailer({ region: config.region, endpoint: config.sesEndpoint }),
  linkSecret,
  publicUrl: config.publicUrl,
  mailFrom: config.mailFrom,
  now: () => new Date(),
};

describe("a pro's erasure", () => {
  it("emails nothing of the pro after it answered, for a round created a moment before whose index entry (a campaign's rounds, GSI2) the erasure's read does not show yet (stub: DynamoDB Local's indexes are never behind)", async () => {
    const now = new Date();
    const tag = `erase-lag-${now.getTime()}`;
    const agency = await createAgency(db, { name: `Erasure ${tag}` }, now);
    const proEmail = `jane-${tag}@acme.example`;
    const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: proEmail }, now);
    const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, now);
    const emails = [`a-${tag}@news.example`, `b-${tag}@news.example`];
    const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients: emails.map((email) => ({ email, audience: 'reporter' })) }, now);
    // A global secondary index is eventually consistent: the round, written a moment ago, is not in its campaign's list yet.
    const lagging = testDeps().db;
    lagging.client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName === 'QueryCommand' && (args.input as { IndexName?: string }).IndexName === 'GSI2') {
          const output = result.output as { Items?: { roundId?: unknown }[]; Count?: number };
          // Marshalled or not, depending on where in the stack this runs.
          output.Items = output.Items?.filter((item) => JSON.stringify(item.roundId) !== JSON.stringify({ S: round.roundId }) && item.roundId !== round.roundId);
          output.Count = output.Items?.length;
        }
        return result;
      },
      { step: 'initialize', name: 'laggingIndex' },
    );
    await erasePro(lagging, agency.agencyId, pro.proId, new Date());
    await Promise.all(accepted.map((i) => deliver(deliveryDeps, { kind: 'invitation', roundId: round.roundId, invitationId: i.invitationId })));
    for (const email of emails) {
      for (const sent of await sesEmails({ to: email })) {
        expect(JSON.stringify(sent)).not.toContain('Jane Doe');
        expect(JSON.stringify(sent)).not.toContain(proEmail);
      }
    }
  });
  it("sends no reminder of the pro's rounds after it answered, named or anonymous: each is dropped, out of the reminder index", async () => {
    const start = new Date();
    const tag = `erase-reminders-${start.getTime()}`;
    const agency = await createAgency(db, { name: `Erasure ${tag}` }, start);
    const proEmail = `jane-${tag}@acme.example`;
    const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: proEmail }, start);
    const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, start);
    const at = (when: Date): DeliveryDeps => ({ ...deliveryDeps, now: () => when });
    const rounds = await Promise.all(
      (['named', 'anonymous'] as const).map(async (attribution) => {
        const email = `${attribution}-${tag}@news.example`;
        const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients: [{ email, audience: 'reporter' }], attribution }, start);
        const invitationId = accepted[0]!.invitationId;
        expect(await deliver(at(start), { kind: 'invitation', roundId: round.roundId, invitationId })).toBe('sent');
        return { roundId: round.roundId, invitationId, email };
      }),
    );
    const stored = (r: (typeof rounds)[number]) => db.doc.send(new GetCommand({ TableName: db.table, Key: keys.invitation(r.roundId, r.invitationId), ConsistentRead: true })).then((o) => o.Item!);
    const dues = await Promise.all(rounds.map(async (r) => (await stored(r)).nextReminderAt as string));
    for (const due of dues) expect(due > start.toISOString()).toBe(true);

    await erasePro(db, agency.agencyId, pro.proId, new Date());
    for (const [i, r] of rounds.entries()) {
      const when = new Date(Date.parse(dues[i]!) + 60_000);
      expect(await deliver(at(when), { kind: 'reminder', roundId: r.roundId, invitationId: r.invitationId, dueAt: dues[i]! })).toBe('skipped');
      const item = await stored(r);
      expect({ status: item.status, remindersSent: item.remindersSent, nextReminderAt: item.nextReminderAt, checkAt: item.checkAt }).toEqual({ status: 'sent', remindersSent: 0, nextReminderAt: null, checkAt: undefined });
      // The invitation only: no reminder went out.
      expect(await sesEmails({ to: r.email })).toHaveLength(1);
    }
  });
});
