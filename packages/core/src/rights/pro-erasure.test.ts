import { describe, expect, it } from 'vitest';
import { sesEmails, testConfig, testDeps } from '@rapport/testing';
import { createAgency } from '../agency/agency';
import { createCampaign } from '../campaign/campaign';
import { createSesMailer } from '../email/mailer';
import { createPro } from '../pro/pro';
import type { DeliveryDeps } from '../sending/deliver';
import { deliver } from '../sending/dispatch';
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
});
