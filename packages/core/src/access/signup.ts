import { randomBytes } from 'node:crypto';
import * as v from 'valibot';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { AgencyInputSchema, createAgency, getAgency, type Agency } from '../agency/agency';
import { createPro, getPro, type Pro } from '../pro/pro';
import { emailDocument } from '../email/layout';
import { displayName, escapeHtml, isolate, plainText, truncate } from '../email/text';
import type { DeliveryDeps, DeliveryOutcome } from '../sending/deliver';
import type { SendJob } from '../sending/queue';
import { hashedId } from '../shared/ids';
import { EmailSchema, NameSchema } from '../shared/schemas';
import { epochSeconds } from '../shared/time';
import { parseInput } from '../shared/validate';
import { consumeSignUpToken, createSignUpToken, readSignUpToken, SIGN_IN_LINK_MINUTES, type PendingSignUp } from './login';
import { createMember, getMember, type Member } from './member';
import type { Identity } from './session';
import { emailButton, emailParagraph, sendLinkEmail } from './sign-in-mail';

/** What a person starting an agency gives: its name, theirs, their address, and whether they send surveys themself (then they are a pro too). */
export const SignUpInputSchema = v.object({
  agencyName: AgencyInputSchema.entries.name,
  name: NameSchema,
  email: EmailSchema,
  sendsSurveys: v.boolean(),
});
export type SignUpInput = v.InferOutput<typeof SignUpInputSchema>;

/** A sign-up asked for is kept this long for its email job (retried for minutes at most). */
const REQUEST_HOURS = 1;

/**
 * `POST /signup`: keeps what was asked under a random id (with a TTL) and returns the id, which is
 * all the send job carries: queues hold no address.
 */
export async function requestSignUp(db: Db, input: unknown, now: Date): Promise<string> {
  const signUp = parseInput(SignUpInputSchema, input);
  const request = randomBytes(16).toString('base64url');
  await db.doc.send(
    new PutCommand({
      TableName: db.table,
      Item: { ...keys.signUpRequest(request), type: 'signUpRequest', ...signUp, expiresAt: epochSeconds(now) + REQUEST_HOURS * 3600 },
      ConditionExpression: 'attribute_not_exists(PK)',
    }),
  );
  return request;
}

/** The sign-up email: one button, which opens the page that creates the agency. Asked for by its reader: no List-Unsubscribe. */
export function renderSignUpEmail(input: { signUp: SignUpInput; url: string; signUpUrl: string }) {
  const { signUp, url, signUpUrl } = input;
  const subject = truncate(`Create ${displayName(signUp.agencyName) || 'your agency'} on Rapport`, 150);
  const intro = `Here is the link you asked for to create ${isolate(signUp.agencyName)} on Rapport, with you as its admin.`;
  const label = `Create ${isolate(signUp.agencyName)}`;
  const once = `The link works once, for ${SIGN_IN_LINK_MINUTES} minutes. Ask for a new one any time at`;
  const ignore = 'If you did not ask for this, you can ignore this email: nothing is created without the link.';
  const text = plainText([`Hi ${isolate(signUp.name)},`, '', intro, '', `${label}: ${url}`, '', `${once} ${signUpUrl}`, '', '--', ignore, ''].join('\n'));
  const e = escapeHtml;
  const html = emailDocument({
    subject,
    preheader: plainText(intro),
    rows: [emailParagraph(`Hi ${e(isolate(signUp.name))},`), emailParagraph(e(intro)), emailButton(label, url), emailParagraph(`${e(once)} <a href="${e(signUpUrl)}" target="_blank" style="color:#1f5fbf;">${e(signUpUrl)}</a>`)],
    footerHtml: e(ignore),
  });
  return { subject, text, html };
}

/**
 * The send worker's part of signing up: makes the one-time link (which carries the sign-up) and
 * emails it. A repeated job sends another link for the same request: either creates the same
 * agency (`completeSignUp`), so at most one agency comes of one request.
 */
export async function deliverSignUp(deps: DeliveryDeps, job: Extract<SendJob, { kind: 'sign-up' }>): Promise<DeliveryOutcome> {
  const { Item } = await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: keys.signUpRequest(job.request) }));
  if (!Item) return 'skipped';
  const signUp = v.parse(SignUpInputSchema, { agencyName: Item.agencyName, name: Item.name, email: Item.email, sendsSurveys: Item.sendsSurveys });
  const token = await createSignUpToken(deps.db, { request: job.request, ...signUp }, deps.now());
  const content = renderSignUpEmail({ signUp, url: `${deps.publicUrl}/signup/${token}`, signUpUrl: `${deps.publicUrl}/signup` });
  return sendLinkEmail(deps, job, { name: signUp.name, address: signUp.email }, content);
}

/** The ids a sign-up request's agency, admin and pro get: the same on every attempt, so a retry finds what an earlier one began. */
export const signUpIds = (request: string) => ({
  agencyId: hashedId('ag', 'signup', request),
  memberId: hashedId('mbr', 'signup', request),
  proId: hashedId('pro', 'signup', request),
});

/** A creation done once: when an earlier attempt already made it (its condition fails now), that one. */
async function once<T>(create: () => Promise<T>, existing: () => Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (error) {
    const made = await existing().catch(() => undefined);
    if (made) return made;
    throw error;
  }
}

export interface SignedUp {
  agency: Agency;
  admin: Member;
  pro?: Pro;
  /** Who signs in now: the admin. */
  identity: Identity;
}

/**
 * The POST of a sign-up link: creates the agency, its admin and (when they send surveys) the same
 * person as a pro, each under ids that follow from the request, then uses the link up. A request
 * that dies between the writes leaves the link unused: its retry completes the same agency. Of two
 * requests at once, both write the same items and only one uses the link (the other gets null).
 * Null for a used, expired or forged link.
 */
export async function completeSignUp(db: Db, token: string, now: Date): Promise<SignedUp | null> {
  const pending: PendingSignUp | null = await readSignUpToken(db, token, now);
  if (!pending) return null;
  const { agencyId, memberId, proId } = signUpIds(pending.request);
  const person = { name: pending.name, email: pending.email };
  const agency = await once(() => createAgency(db, { name: pending.agencyName }, now, { agencyId }), () => getAgency(db, agencyId));
  const admin = await once(() => createMember(db, agencyId, { ...person, role: 'admin' }, now, { memberId }), () => getMember(db, agencyId, memberId));
  const pro = pending.sendsSurveys ? await once(() => createPro(db, agencyId, person, now, { proId }), () => getPro(db, agencyId, proId)) : undefined;
  if (!(await consumeSignUpToken(db, token, now))) return null;
  return { agency, admin, ...(pro ? { pro } : {}), identity: { kind: 'member', agencyId, memberId } };
}
