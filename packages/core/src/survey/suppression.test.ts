import { describe, expect, it } from 'vitest';
import { sesEventTags, testDeps } from '@rapport/testing';
import { createAgency } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign } from '../campaign/campaign';
import { createRound } from './round';
import { openInvitation } from './response';
import { batchGet } from '../db/batch';
import { keys } from '../db/keys';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import { deliver } from '../sending/dispatch';
import { handleSesNotification } from '../sending/notifications';
import { addressHash } from './address';
import { addSuppression, liftSuppression, listSuppressions, suppress, unsuppress } from './suppression';

const deps = testDeps();
const { db } = deps;
const delivery = { db, mailer: deps.mailer, linkSecret: deps.linkSecret, publicUrl: deps.config.publicUrl, mailFrom: deps.config.mailFrom, now: deps.now };
const T0 = new Date('2031-03-02T10:00:00.000Z');

let n = 0;
const agency = async () => (await createAgency(db, { name: `Suppressions ${++n}` }, T0)).agencyId;
const listed = async (agencyId: string) => (await listSuppressions(db, agencyId, { limit: 100 })).items;
const stored = async (email: string, agencyId: string) =>
  [...(await batchGet(db, [keys.globalSuppression(addressHash(email)), keys.agencySuppression(addressHash(email), agencyId)])).values()].map((i) => `${i.SK}:${i.reason}`);

describe("an agency's suppression list", () => {
  it('lists a bounce of its own survey for that agency only, with the address in full', async () => {
    const [a, b] = [await agency(), await agency()];
    const pro = await createPro(db, a, { name: 'Jane Doe', email: `jane-${a}@acme.example` }, T0);
    const campaign = await createCampaign(db, a, { proId: pro.proId, name: 'Launch' }, T0);
    const email = `Gone-${a.slice(3)}@News.example`;
    const { round, accepted } = await createRound(db, a, campaign.campaignId, { recipients: [{ email, audience: 'reporter' }] }, new Date());
    const ref = { roundId: round.roundId, invitationId: accepted[0]!.invitationId };
    expect(await deliver(delivery, { kind: 'invitation', ...ref })).toBe('sent');
    const { invitation } = await openInvitation(db, ref);
    const message = JSON.stringify({
      notificationType: 'Bounce',
      bounce: { bounceType: 'Permanent', bouncedRecipients: [{ emailAddress: email }] },
      mail: { messageId: invitation.messageId, tags: sesEventTags(invitation) },
    });
    await handleSesNotification(db, message, T0);
    expect(await listed(a)).toEqual([{ email, reason: 'bounced', scope: 'global', at: T0.toISOString() }]);
    expect(await listed(b)).toEqual([]);
    // A bounce is not the agency's to lift.
    await expect(liftSuppression(db, a, email)).rejects.toThrow(ConflictError);
    expect(await stored(email, a)).toEqual(['SUP:bounced']);
  });

  it('lists an address suppressed already as it was first recorded', async () => {
    const [a, b] = [await agency(), await agency()];
    const email = `twice-${a.slice(3)}@news.example`;
    expect(await suppress(db, email, 'complained', { global: true, agencyId: a }, T0)).toBe(true);
    const later = new Date(T0.getTime() + 60_000);
    expect(await suppress(db, email, 'bounced', { global: true, agencyId: b }, later)).toBe(false);
    expect(await listed(b)).toEqual([{ email, reason: 'complained', scope: 'global', at: T0.toISOString() }]);
  });

  it('adds by hand, keeps the first record, lifts an agency unsubscribe and its entry together', async () => {
    const a = await agency();
    const email = `asked-${a.slice(3)}@outlet.example`;
    await expect(addSuppression(db, a, { email: 'not an address' }, 'mbr_x', T0)).rejects.toThrow(ValidationError);
    const first = await addSuppression(db, a, { email: ` ${email} ` }, 'mbr_01', T0);
    expect(first).toEqual({ created: true, suppression: { email, reason: 'unsubscribed', scope: 'agency', at: T0.toISOString(), addedBy: 'mbr_01' } });
    const again = await addSuppression(db, a, { email: email.toUpperCase() }, 'mbr_02', new Date(T0.getTime() + 1000));
    expect(again).toEqual({ created: false, suppression: first.suppression });
    expect(await stored(email, a)).toEqual([`AG#${a}:unsubscribed`]);
    await liftSuppression(db, a, email.toUpperCase());
    expect(await stored(email, a)).toEqual([]);
    expect(await listed(a)).toEqual([]);
    await expect(liftSuppression(db, a, email)).rejects.toThrow(NotFoundError);
  });

  it('an unsubscribe undone from its link leaves the list too; one from another agency is not listed here', async () => {
    const [a, b] = [await agency(), await agency()];
    const email = `undo-${a.slice(3)}@outlet.example`;
    await suppress(db, email, 'unsubscribed', { agencyId: a }, T0, { via: 'inv_1' });
    await suppress(db, email, 'unsubscribed', { agencyId: b }, T0, { via: 'inv_2' });
    expect((await listed(a)).map((s) => s.email)).toEqual([email]);
    expect(await unsuppress(db, email, { agencyId: a }, 'inv_1', T0)).toBe(true);
    expect(await listed(a)).toEqual([]);
    expect(await listed(b)).toEqual([{ email, reason: 'unsubscribed', scope: 'agency', at: T0.toISOString() }]);
  });
});
