import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { isConditionFailed } from '../db/conditions';
import type { Pro } from '../pro/pro';
import { iso } from '../shared/time';
import { signToken, verifyToken } from '../survey/token';

/**
 * Who may stop which of Rapport's own emails (survey mail has its own unsubscribe, `/u/{token}`):
 * a pro their summaries and early warnings, an agency admin (an address of `summary.adminEmails`)
 * the agency summary. The preference is kept on the pro's item (`summariesOff`, `earlyWarningsOff`:
 * when it was stopped) and on an admin item per agency and address hash (`AG#<a>` / `ADMIN#<h>`);
 * the jobs read it where they already read the pro, or with one GetItem for an admin.
 */
export type MailStream = 'summaries' | 'earlyWarnings' | 'agencySummary';

/** The email a preference link came in: which stream it stops in one click, and whose it is. */
export type MailRecipient =
  | { stream: 'summaries' | 'earlyWarnings'; agencyId: string; proId: string }
  | { stream: 'agencySummary'; agencyId: string; adminHash: string };

/** How long a preference link works: mail is read, and unsubscribed from, months after it came. */
export const MAIL_TOKEN_DAYS = 365;

const STREAM_CODES: Record<MailStream, string> = { summaries: 's', earlyWarnings: 'w', agencySummary: 'a' };
const ID = /^[a-z]+_[0-9A-HJKMNP-TV-Z]{26}$/;
const HASH = /^[0-9a-f]{64}$/;

/**
 * The token of a preference link (`/m/{token}`): stream, agency, pro id or admin address hash and
 * an expiry, signed for the purpose `rapport-mail-v1`, so a survey link's token is no preference
 * token and a preference token no survey link. It carries no address.
 */
export function signMailToken(secret: string, recipient: MailRecipient, now: Date): string {
  const expires = Math.floor(now.getTime() / 1000 + MAIL_TOKEN_DAYS * 86_400).toString(36);
  const subject = recipient.stream === 'agencySummary' ? recipient.adminHash : recipient.proId;
  return signToken(secret, 'rapport-mail-v1', `${STREAM_CODES[recipient.stream]}.${recipient.agencyId}.${subject}.${expires}`);
}

/** The recipient a token names, or null for anything forged, altered, malformed or expired (no reason given). */
export function verifyMailToken(secret: string, token: string, now: Date): MailRecipient | null {
  if (token.length > 300) return null;
  const payload = verifyToken(secret, 'rapport-mail-v1', token);
  const [code, agencyId, subject, expires, ...rest] = payload?.split('.') ?? [];
  if (!code || !agencyId || !subject || !expires || rest.length > 0 || !ID.test(agencyId)) return null;
  if (!/^[0-9a-z]{1,10}$/.test(expires) || parseInt(expires, 36) * 1000 <= now.getTime()) return null;
  const stream = (Object.keys(STREAM_CODES) as MailStream[]).find((s) => STREAM_CODES[s] === code);
  if (stream === 'agencySummary') return HASH.test(subject) ? { stream, agencyId, adminHash: subject } : null;
  if (stream && ID.test(subject)) return { stream, agencyId, proId: subject };
  return null;
}

/** The link (and one-click URL) by which a recipient stops or changes an email of Rapport's own. */
export const preferencesUrl = (deps: { publicUrl: string; linkSecret: string }, recipient: MailRecipient, now: Date) =>
  `${deps.publicUrl}/m/${signMailToken(deps.linkSecret, recipient, now)}`;

/** Whether a pro still gets a stream (the pro item as read by the jobs): never while deactivated. */
export const proReceives = (pro: Pick<Pro, 'summariesOff' | 'earlyWarningsOff' | 'deactivatedAt'>, stream: 'summaries' | 'earlyWarnings') =>
  pro.deactivatedAt === undefined && (stream === 'summaries' ? pro.summariesOff : pro.earlyWarningsOff) === undefined;

/** Whether an admin address still gets the agency summary: one GetItem. */
export async function adminReceivesAgencySummary(db: Db, agencyId: string, adminHash: string): Promise<boolean> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.adminMail(agencyId, adminHash), ConsistentRead: true }));
  return Item?.agencySummaryOff === undefined;
}

/** What the recipient of a preference link gets now, by stream; null when the pro no longer exists or is deactivated. */
export async function mailPreferences(db: Db, recipient: MailRecipient): Promise<Partial<Record<MailStream, boolean>> | null> {
  if (recipient.stream === 'agencySummary') return { agencySummary: await adminReceivesAgencySummary(db, recipient.agencyId, recipient.adminHash) };
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.pro(recipient.agencyId, recipient.proId), ConsistentRead: true }));
  // A deactivated pro gets none of these emails: their links answer as for a pro who is gone.
  if (!Item || Item.deactivatedAt) return null;
  const pro = Item as Pick<Pro, 'summariesOff' | 'earlyWarningsOff'>;
  return { summaries: proReceives(pro, 'summaries'), earlyWarnings: proReceives(pro, 'earlyWarnings') };
}

/**
 * Stops (`receive: false`) or resumes the given streams of the link's recipient; false when the pro
 * no longer exists. Streams that are not the recipient's are refused by the caller's choice list.
 */
export async function setMailPreferences(db: Db, recipient: MailRecipient, streams: MailStream[], receive: boolean, now: Date): Promise<boolean> {
  if (recipient.stream === 'agencySummary') {
    if (!streams.includes('agencySummary')) return true;
    const Key = keys.adminMail(recipient.agencyId, recipient.adminHash);
    if (receive) await db.doc.send(new DeleteCommand({ TableName: db.table, Key }));
    else await db.doc.send(new PutCommand({ TableName: db.table, Item: { ...Key, type: 'adminMail', agencySummaryOff: iso(now) } }));
    return true;
  }
  const attributes = streams.flatMap((s) => (s === 'summaries' ? ['summariesOff'] : s === 'earlyWarnings' ? ['earlyWarningsOff'] : []));
  if (attributes.length === 0) return true;
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.pro(recipient.agencyId, recipient.proId),
        // Stopping again keeps the first time it was stopped.
        UpdateExpression: receive ? `REMOVE ${attributes.join(', ')}` : `SET ${attributes.map((a) => `${a} = if_not_exists(${a}, :at)`).join(', ')}`,
        ConditionExpression: 'attribute_exists(PK)',
        ...(receive ? {} : { ExpressionAttributeValues: { ':at': iso(now) } }),
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    throw error;
  }
}
