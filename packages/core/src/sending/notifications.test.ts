import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { sesEventTags, testDeps } from '@rapport/testing';
import { createAgency } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign } from '../campaign/campaign';
import { ValidationError } from '../shared/errors';
import { createRound, getRound } from '../survey/round';
import { openInvitation } from '../survey/response';
import { batchGet } from '../db/batch';
import { keys } from '../db/keys';
import { addressHash } from '../survey/address';
import { deliver } from './dispatch';
import { handleSesNotification } from './notifications';
import { recordedSends } from './records';
import { MailerError } from '../email/mailer';

const deps = testDeps();
const { db } = deps;
const delivery = { db, mailer: deps.mailer, linkSecret: deps.linkSecret, publicUrl: deps.config.publicUrl, mailFrom: deps.config.mailFrom, now: deps.now };

let n = 0;
async function sentTo(email: string) {
  const now = new Date();
  const agency = await createAgency(db, { name: `Notifications ${++n}` }, now);
  const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane-${n}-${now.getTime()}@acme.example` }, now);
  const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, now);
  const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients: [{ email, audience: 'reporter' }] }, now);
  const ref = { roundId: round.roundId, invitationId: accepted[0]!.invitationId };
  expect(await deliver(delivery, { kind: 'invitation', ...ref })).toBe('sent');
  const { invitation } = await openInvitation(db, ref);
  return { agencyId: agency.agencyId, campaignId: campaign.campaignId, ref, messageId: invitation.messageId!, tags: sesEventTags(invitation) };
}

/** The SNS `Message` SES publishes, shaped as in the SES developer guide's examples. */
const bounce = (messageId: string, email: string, bounceType = 'Permanent', tags?: Record<string, string[]>) =>
  JSON.stringify({
    notificationType: 'Bounce',
    bounce: {
      bounceType,
      bounceSubType: bounceType === 'Permanent' ? 'General' : 'MailboxFull',
      bouncedRecipients: [{ emailAddress: email, action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }],
      timestamp: '2026-11-24T10:00:00.000Z',
      feedbackId: '0100017c-feedback',
      reportingMTA: 'dsn; a8-70.smtp-out.amazonses.com',
    },
    mail: { timestamp: '2026-11-24T09:59:58.000Z', source: 'surveys@rapport.example', messageId, destination: [email], tags },
  });

const complaint = (messageId: string, email: string, tags?: Record<string, string[]>) =>
  JSON.stringify({
    eventType: 'Complaint',
    complaint: { complainedRecipients: [{ emailAddress: email }], timestamp: '2026-11-24T10:00:00.000Z', feedbackId: 'f', complaintFeedbackType: 'abuse' },
    mail: { timestamp: '2026-11-24T09:59:58.000Z', source: 'surveys@rapport.example', messageId, destination: [email], tags },
  });

const suppressionOf = async (email: string) => [...(await batchGet(db, [keys.globalSuppression(addressHash(email))])).values()][0];

describe('SES bounce and complaint notifications', () => {
  it('a permanent bounce suppresses the address everywhere and marks the invitation bounced, once', async () => {
    const email = `gone-${Date.now()}@news.example`;
    const { agencyId, ref, messageId, tags } = await sentTo(email);
    const outcome = await handleSesNotification(db, bounce(messageId, email, 'Permanent', tags), new Date());
    expect(outcome).toEqual({ kind: 'bounce', suppressed: [email], invitation: { ...ref, status: 'bounced' } });
    expect(await suppressionOf(email)).toMatchObject({ reason: 'bounced' });
    expect((await openInvitation(db, ref)).invitation).toMatchObject({ status: 'bounced', nextReminderAt: null });
    const round = await getRound(db, agencyId, ref.roundId);
    expect(round.counts).toMatchObject({ sent: 0, bounced: 1 });

    // SNS delivers at least once: the same notification again changes nothing.
    expect((await handleSesNotification(db, bounce(messageId, email, 'Permanent', tags), new Date())).invitation).toBeNull();
    expect((await getRound(db, agencyId, ref.roundId)).counts).toEqual(round.counts);

    // Another agency's next round skips the address with the reason.
    const other = await sentTo(`other-${Date.now()}@news.example`);
    const again = await createRound(db, other.agencyId, other.campaignId, { recipients: [{ email, audience: 'client' }] }, new Date());
    expect(again.skipped).toEqual([{ index: 0, email, reason: 'bounced' }]);
  });

  it('a complaint suppresses the address; the invitation stays delivered', async () => {
    const email = `angry-${Date.now()}@news.example`;
    const { ref, messageId, tags } = await sentTo(email);
    expect(await handleSesNotification(db, complaint(messageId, email, tags), new Date())).toEqual({ kind: 'complaint', suppressed: [email], invitation: null });
    expect(await suppressionOf(email)).toMatchObject({ reason: 'complained' });
    expect((await openInvitation(db, ref)).invitation.status).toBe('sent');
  });

  it('a transient bounce and a delivery notification change nothing', async () => {
    const email = `full-${Date.now()}@news.example`;
    const { ref, messageId } = await sentTo(email);
    expect((await handleSesNotification(db, bounce(messageId, email, 'Transient'), new Date())).kind).toBe('ignored');
    const delivery = JSON.stringify({ notificationType: 'Delivery', mail: { messageId }, delivery: { recipients: [email] } });
    expect((await handleSesNotification(db, delivery, new Date())).kind).toBe('ignored');
    expect(await suppressionOf(email)).toBeUndefined();
    expect((await openInvitation(db, ref)).invitation.status).toBe('sent');
  });

  it('a bounce of mail that is not ours still suppresses the address', async () => {
    const email = `stranger-${Date.now()}@news.example`;
    expect(await handleSesNotification(db, bounce('0000-not-ours', email), new Date())).toEqual({ kind: 'bounce', suppressed: [email], invitation: null });
    expect(await suppressionOf(email)).toMatchObject({ reason: 'bounced' });
  });

  it('rejects a malformed notification naming what is wrong, and changes nothing', async () => {
    await expect(handleSesNotification(db, 'not json', new Date())).rejects.toMatchObject({ issues: [{ field: 'Message' }] });
    const error = await handleSesNotification(db, JSON.stringify({ notificationType: 'Bounce', mail: {} }), new Date()).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.issues).toEqual([expect.objectContaining({ field: 'mail.messageId' })]);
  });
});

/** SES's `Send` event as the configuration set publishes it, with the message tags the worker set. */
const sendEvent = (messageId: string, tags: Record<string, string>, timestamp: string) =>
  JSON.stringify({
    eventType: 'Send',
    mail: {
      timestamp,
      source: 'surveys@rapport.example',
      messageId,
      destination: ['someone@news.example'],
      tags: { 'ses:configuration-set': ['rapport'], 'ses:caller-identity': ['sender'], ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, [v]])) },
    },
    send: {},
  });

describe('SES Send events (the record that settles a send cut off mid-way)', () => {
  const refs = () => ({ roundId: `rnd_${crypto.randomUUID()}`, invitationId: `inv_${crypto.randomUUID()}` });

  it('keeps the Send event of an invitation\'s first email once: delivered twice, or followed by another, the first is kept', async () => {
    const ref = refs();
    const other = refs();
    const tags = { round: ref.roundId, invitation: ref.invitationId, kind: 'invitation' };
    const first = sendEvent('ses-first', tags, '2026-11-24T09:59:58.000Z');
    expect(await handleSesNotification(db, first, new Date())).toEqual({ kind: 'send', suppressed: [], invitation: null });
    // SNS delivers at least once; and a later event for the same invitation changes nothing.
    await handleSesNotification(db, first, new Date());
    await handleSesNotification(db, sendEvent('ses-second', tags, '2026-11-24T10:05:00.000Z'), new Date());

    const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.sendRecord(ref.invitationId) }));
    expect(Item).toEqual({ ...keys.sendRecord(ref.invitationId), type: 'sendRecord', roundId: ref.roundId, invitationId: ref.invitationId, messageId: 'ses-first', at: '2026-11-24T09:59:58.000Z' });
    // The AWS adapter of SendRecords finds it, and only it.
    expect(await recordedSends(db).firstEmails([ref, other])).toEqual(new Map([[ref.invitationId, 'ses-first']]));
    expect(await recordedSends(db).firstEmails([])).toEqual(new Map());
  });

  it("keeps a reminder's Send event under its number, apart from the first email's, and no record of one without the invitation's tags", async () => {
    const reminder = refs();
    const untagged = refs();
    const outcome = await handleSesNotification(db, sendEvent('ses-reminder', { round: reminder.roundId, invitation: reminder.invitationId, kind: 'reminder', reminder: '2' }, '2026-11-24T10:00:00.000Z'), new Date());
    expect(outcome).toEqual({ kind: 'send', suppressed: [], invitation: null });
    await handleSesNotification(db, sendEvent('ses-no-number', { round: untagged.roundId, invitation: untagged.invitationId, kind: 'reminder' }, '2026-11-24T10:00:00.000Z'), new Date());
    await handleSesNotification(db, sendEvent('ses-summary', { kind: 'invitation' }, '2026-11-24T10:00:00.000Z'), new Date());
    await handleSesNotification(db, sendEvent('ses-no-kind', { round: untagged.roundId, invitation: untagged.invitationId }, '2026-11-24T10:00:00.000Z'), new Date());
    expect(await recordedSends(db).firstEmails([reminder, untagged])).toEqual(new Map());
    expect(await recordedSends(db).reminders([{ ...reminder, reminder: 2 }, { ...reminder, reminder: 1 }, { ...untagged, reminder: 1 }])).toEqual(new Set([reminder.invitationId]));
    expect(await recordedSends(db).reminders([{ ...reminder, reminder: 1 }])).toEqual(new Set());
  });
  it("writes no record of an email whose message id the worker wrote on the invitation (first email, then a reminder), and keeps the record of one whose answer was lost (stub: SES's answer lost)", async () => {
    const { ref, messageId } = await sentTo(`settled-${crypto.randomUUID()}@news.example`);
    const tags = { round: ref.roundId, invitation: ref.invitationId };
    await handleSesNotification(db, sendEvent(messageId, { ...tags, kind: 'invitation' }, new Date().toISOString()), new Date());
    expect(await recordedSends(db).firstEmails([ref])).toEqual(new Map());

    // Its first reminder, sent by the worker: the same holds.
    const { invitation } = await openInvitation(db, ref);
    const dueAt = invitation.nextReminderAt!;
    const at = new Date(Date.parse(dueAt) + 60_000);
    expect(await deliver({ ...delivery, now: () => at }, { kind: 'reminder', ...ref, dueAt })).toBe('sent');
    const reminded = (await openInvitation(db, ref)).invitation;
    expect(reminded.remindersSent).toBe(1);
    await handleSesNotification(db, sendEvent(reminded.reminderMessageId!, { ...tags, kind: 'reminder', reminder: '1' }, at.toISOString()), at);
    expect(await recordedSends(db).reminders([{ ...ref, reminder: 1 }])).toEqual(new Set());

    // Another's reminder SES took, whose answer the worker never had: in doubt, so the record is kept.
    const doubt = (await sentTo(`in-doubt-${crypto.randomUUID()}@news.example`)).ref;
    const due = (await openInvitation(db, doubt)).invitation.nextReminderAt!;
    const later = new Date(Date.parse(due) + 60_000);
    let taken = '';
    const answerLost = { send: async (message: Parameters<typeof deps.mailer.send>[0]) => ((taken = (await deps.mailer.send(message)).messageId), Promise.reject(new MailerError('socket hang up', 'ECONNRESET', true))) };
    expect(await deliver({ ...delivery, mailer: answerLost, now: () => later }, { kind: 'reminder', ...doubt, dueAt: due })).toBe('in-doubt');
    await handleSesNotification(db, sendEvent(taken, { round: doubt.roundId, invitation: doubt.invitationId, kind: 'reminder', reminder: '1' }, later.toISOString()), later);
    expect(await recordedSends(db).reminders([{ ...doubt, reminder: 1 }])).toEqual(new Set([doubt.invitationId]));
  });
});
