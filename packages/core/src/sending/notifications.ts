import { END_LOOKS } from './lease';
import * as v from 'valibot';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { ValidationError } from '../shared/errors';
import { iso } from '../shared/time';
import { parseInput } from '../shared/validate';
import { suppress } from '../survey/suppression';
import { deliveredChange } from '../scores/open-rounds';
import { InvitationGoneError, openInvitation } from '../survey/response';
import { settleAnsweredSend, transitionInvitation } from './transition';
import { recordSendEvent } from './records';
import type { TransactItems } from '../db/transact';

const recipients = v.array(v.looseObject({ emailAddress: v.string() }));

/**
 * The parts of an SES notification we act on. SES sends `notificationType` to an identity's SNS
 * topic and `eventType` through a configuration set's event destination; both are accepted.
 * Loose objects: SES adds fields over time and those must not make a notification fail.
 */
const SesNotificationSchema = v.looseObject({
  notificationType: v.optional(v.string()),
  eventType: v.optional(v.string()),
  mail: v.looseObject({ messageId: v.string(), timestamp: v.optional(v.string()), tags: v.optional(v.record(v.string(), v.array(v.string()))) }),
  bounce: v.optional(v.looseObject({ bounceType: v.string(), bouncedRecipients: recipients })),
  complaint: v.optional(v.looseObject({ complainedRecipients: recipients })),
});

export interface NotificationOutcome {
  kind: 'bounce' | 'complaint' | 'send' | 'ignored';
  /** Addresses now suppressed for every agency. */
  suppressed: string[];
  /** The invitation the message was, when it was one of ours and it changed. */
  invitation: { roundId: string; invitationId: string; status: 'bounced' } | null;
}

/**
 * Keeps SES's `Send` event of an invitation's first email (see `SendRecords`), and acts on one SES bounce or complaint notification (the `Message` of the SNS notification, a JSON
 * string). A permanent bounce suppresses the address for every agency and marks the invitation
 * `bounced` (out of the response rate, no reminders). A complaint suppresses the address too; its
 * invitation stays delivered, and the sender skips its reminders since the address is suppressed.
 * Transient bounces and other notification types change nothing: SES itself retried those.
 * Handling the same notification twice (SNS delivers at least once) changes nothing more.
 */
export async function handleSesNotification(db: Db, snsMessage: string, now: Date): Promise<NotificationOutcome> {
  let json: unknown;
  try {
    json = JSON.parse(snsMessage);
  } catch {
    throw ValidationError.field('Message', 'is not JSON');
  }
  const notification = parseInput(SesNotificationSchema, json);
  const type = notification.notificationType ?? notification.eventType;

  if (type === 'Send') {
    // SES's record that it took an invitation's first email: what settles a send cut off mid-way.
    const { messageId, timestamp, tags = {} } = notification.mail;
    await recordSendEvent(db, { messageId, at: timestamp ?? iso(now), tags });
    return { kind: 'send', suppressed: [], invitation: null };
  }

  if (type === 'Bounce' && notification.bounce?.bounceType === 'Permanent') {
    const suppressed = notification.bounce.bouncedRecipients.map((r) => r.emailAddress);
    const message = await messageRef(db, notification.mail);
    const agencyId = await listedFor(db, message);
    await Promise.all(suppressed.map((email) => suppress(db, email, 'bounced', { global: true, agencyId }, now)));
    return { kind: 'bounce', suppressed, invitation: message && (await markBounced(db, message, now)) };
  }
  if (type === 'Complaint' && notification.complaint) {
    const suppressed = notification.complaint.complainedRecipients.map((r) => r.emailAddress);
    const message = await messageRef(db, notification.mail);
    const agencyId = await listedFor(db, message);
    await Promise.all(suppressed.map((email) => suppress(db, email, 'complained', { global: true, agencyId }, now)));
    return { kind: 'complaint', suppressed, invitation: null };
  }
  return { kind: 'ignored', suppressed: [], invitation: null };
}

/**
 * The survey email an SES event is about, from the tags it was sent with (`invitationTags`); null
 * for any other email. An email sent before its tags named the agency is looked up in the table,
 * where its message id was written then (`MSG#`, no longer written).
 */
async function messageRef(db: Db, mail: { messageId: string; tags?: Record<string, string[]> | undefined }): Promise<MessageRef | null> {
  const tag = (name: string) => mail.tags?.[name]?.[0];
  const [agencyId, roundId, invitationId, kind] = [tag('agency'), tag('round'), tag('invitation'), tag('kind')];
  if (agencyId && roundId && invitationId && (kind === 'invitation' || kind === 'reminder')) return { agencyId, roundId, invitationId, kind };
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.sesMessage(mail.messageId) }));
  return (Item ?? null) as MessageRef | null;
}

/**
 * The agency a suppression from this email is listed for (its list of suppressions, its
 * `recipient.*` webhook): none for a reminder of an anonymous round. Reminders go only to those who
 * have not answered, so its bounce or complaint, listed with its time, would tell the agency that
 * this person had not answered by then. The address is suppressed all the same.
 */
async function listedFor(db: Db, message: MessageRef | null): Promise<string | undefined> {
  if (message?.kind !== 'reminder') return message?.agencyId;
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.round(message.roundId), ProjectionExpression: 'attribution' }));
  return Item?.attribution === 'anonymous' ? undefined : message.agencyId;
}

interface MessageRef {
  agencyId?: string;
  roundId: string;
  invitationId: string;
  kind: 'invitation' | 'reminder';
}

async function markBounced(db: Db, message: MessageRef, now: Date, attempt = 0): Promise<NotificationOutcome['invitation']> {
  const ref = { roundId: message.roundId, invitationId: message.invitationId };
  // Moved off this id by an erasure: its status stays as it was, like the round's counts.
  const opened = await openInvitation(db, ref, { consistent: attempt > 0 }).catch((e) => (e instanceof InvitationGoneError ? null : Promise.reject(e)));
  if (!opened) return null;
  const { round, invitation } = opened;
  // Reminders go only to those who have not answered: on an anonymous round, a reminder's bounce
  // shown on the invitation would point at a non-respondent. The address is suppressed all the same.
  if (message.kind === 'reminder' && round.attribution === 'anonymous') return null;
  // A reminder in flight keeps its lease: its worker, or the recovery sweep, ends that flight (on a
  // bounced invitation too); taken out of the index here, nothing would, and a close would wait for it.
  const flight = invitation.status === 'sent' ? (invitation.reminderSending ?? null) : undefined;
  const change = { set: { bouncedAt: iso(now), nextReminderAt: null }, remove: flight ? [] : END_LOOKS };
  // A bounced invitation was not delivered after all: it leaves the response rate's denominator.
  const undeliver = (write: (also: TransactItems) => Promise<boolean>) => deliveredChange(db, round, invitation, -1, write);
  if (await undeliver((also) => transitionInvitation(db, ref.roundId, ref.invitationId, 'sent', 'bounced', { ...change, reminderFlight: flight, also }))) return { ...ref, status: 'bounced' };
  // A reminder was claimed, or its flight ended, since the read: read again (consistent) and go again.
  if (flight !== undefined && attempt === 0) return markBounced(db, message, now, 1);
  // A fast bounce can arrive before the sender has recorded the email as sent (or counted it).
  if (await transitionInvitation(db, ref.roundId, ref.invitationId, 'sending', 'bounced', change)) return { ...ref, status: 'bounced' };
  // Answered already (a forwarded copy bounced, say): an anonymous round still shows the bounce,
  // exactly as for someone who had not answered.
  if (round.attribution === 'anonymous') {
    const late = { set: { bouncedAt: iso(now) } };
    if (await undeliver((also) => settleAnsweredSend(db, ref.roundId, ref.invitationId, 'bounced', { ...late, from: 'sent', also }))) return { ...ref, status: 'bounced' };
    if (await settleAnsweredSend(db, ref.roundId, ref.invitationId, 'bounced', { ...late, from: 'sending' })) return { ...ref, status: 'bounced' };
  }
  return null;
}
