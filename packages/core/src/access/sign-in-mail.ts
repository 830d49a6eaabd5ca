import { emailDocument, FONT, WRAP } from '../email/layout';
import { displayName, escapeHtml, isolate, plainText, truncate } from '../email/text';
import type { DeliveryDeps, DeliveryOutcome } from '../sending/deliver';
import type { SendJob } from '../sending/queue';
import { retryDelaySeconds, sendWithRetry } from '../sending/retry';
import { getMember } from './member';
import { getAgency } from '../agency/agency';
import { createSignInToken, loginChoices, SIGN_IN_LINK_MINUTES, type LoginChoice } from './login';

/** A sign-in email SES did not take is tried again this many times (it is only useful for minutes). */
const SIGN_IN_RETRIES = 3;

const cell = `${FONT}font-size:16px;line-height:24px;color:#1f2937;${WRAP}`;
/** A paragraph row of a console email. */
export const emailParagraph = (html: string) => `<tr><td style="padding:0 0 16px 0;${cell}">${html}</td></tr>`;
/** A full-width button row of a console email (the link's one action). */
export const emailButton = (label: string, url: string) =>
  `<tr><td style="padding:0 0 10px 0;">` +
  `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:separate;">` +
  `<tr><td bgcolor="#1f5fbf" style="background-color:#1f5fbf;border-radius:8px;">` +
  `<a href="${escapeHtml(url)}" target="_blank" style="display:block;padding:14px 18px;${FONT}font-size:17px;line-height:22px;font-weight:600;color:#ffffff;text-decoration:none;border-radius:8px;${WRAP}">${escapeHtml(label)}</a>` +
  `</td></tr></table></td></tr>`;

/**
 * The sign-in email: one button per identity the address may sign in as (agency and role), each
 * its own one-time link. `invite` names who invited the person, for the first one an admin asks for.
 * Transactional, asked for by its reader: no List-Unsubscribe.
 */
export function renderSignInEmail(input: { links: { choice: LoginChoice; url: string }[]; signInUrl: string; invite?: { by: string; agencyName: string } }) {
  const { links, invite, signInUrl } = input;
  const label = ({ choice }: { choice: LoginChoice }) => `Sign in to ${isolate(choice.agencyName)} as ${choice.role.toLowerCase()}`;
  // In the subject, names cannot pass for an address or a domain (`displayName`), as in a From line.
  const subject = invite ? truncate(`${displayName(invite.by) || 'An admin'} invited you to ${displayName(invite.agencyName) || 'an agency'} on Rapport`, 150) : 'Your Rapport sign-in link';
  const intro = invite
    ? `${isolate(invite.by)} invited you to ${isolate(invite.agencyName)} on Rapport, where PR pros see how responsive the reporters, colleagues and clients they work with found them.`
    : 'Here is the link you asked for to sign in to Rapport.';
  const once = `${links.length > 1 ? 'Each link' : 'The link'} works once, for ${SIGN_IN_LINK_MINUTES} minutes. Ask for a new one any time at`;
  const ignore = 'If you did not expect this email, you can ignore it: nobody signs in without the link.';
  const text = plainText(
    [`Hi ${isolate(links[0]!.choice.name)},`, '', intro, '', ...links.map((l) => `${label(l)}: ${l.url}`), '', `${once} ${signInUrl}`, '', '--', ignore, ''].join('\n'),
  );
  const e = escapeHtml;
  const button = (l: { choice: LoginChoice; url: string }) => emailButton(label(l), l.url);
  const html = emailDocument({
    subject,
    preheader: plainText(intro),
    rows: [
      emailParagraph(`Hi ${e(isolate(links[0]!.choice.name))},`),
      emailParagraph(e(intro)),
      ...links.map(button),
      `<tr><td style="padding:6px 0 16px 0;${FONT}font-size:14px;line-height:20px;color:#4b5563;${WRAP}">${e(once)} <a href="${e(signInUrl)}" target="_blank" style="color:#1f5fbf;">${e(signInUrl)}</a></td></tr>`,
    ],
    footerHtml: e(ignore),
  });
  return { subject, text, html };
}

/**
 * The send worker's part of signing in: finds who the address may sign in as (nobody: nothing is
 * sent), makes one link per identity and emails them. The request that asked only queued this job,
 * whatever the address, so its answer and timing say nothing about whether the address is known.
 * A repeated job sends another email with other links: harmless, each link works once.
 */
export async function deliverSignIn(deps: DeliveryDeps, job: Extract<SendJob, { kind: 'sign-in' }>): Promise<DeliveryOutcome> {
  const choices = await loginChoices(deps.db, job.login);
  if (choices.length === 0) return 'skipped';
  const now = deps.now();
  const links = await Promise.all(choices.map(async (choice) => ({ choice, url: `${deps.publicUrl}/login/${await createSignInToken(deps.db, choice.identity, job.login, job.next, now)}` })));
  const invite = job.invite && (await inviter(deps, job.invite));
  const content = renderSignInEmail({ links, signInUrl: `${deps.publicUrl}/login`, ...(invite ? { invite } : {}) });
  return sendLinkEmail(deps, job, { name: choices[0]!.name, address: choices[0]!.email }, content);
}

/**
 * Sends a console link email; one SES did not take is queued again (`retries` more on the job) a
 * few times, then given up with a warning (ids and the error code only: no address).
 */
export async function sendLinkEmail<J extends Extract<SendJob, { kind: 'sign-in' | 'sign-up' }>>(
  deps: DeliveryDeps,
  job: J,
  to: { name: string; address: string },
  content: { subject: string; text: string; html: string },
): Promise<DeliveryOutcome> {
  const sent = await sendWithRetry(deps, { from: { name: 'Rapport', address: deps.mailFrom }, to, ...content });
  if (!('error' in sent)) return 'sent';
  const retries = (job.retries ?? 0) + 1;
  if (sent.error.retryable && sent.error.notAccepted && deps.requeue && retries <= SIGN_IN_RETRIES) {
    await deps.requeue({ ...job, retries }, Math.round(retryDelaySeconds(retries)));
    return 'retry';
  }
  deps.warn?.(`${job.kind} email not sent`, { kind: job.kind, failure: sent.error.code });
  return 'failed';
}

async function inviter(deps: DeliveryDeps, invite: { agencyId: string; by: string }) {
  const [member, agency] = await Promise.all([getMember(deps.db, invite.agencyId, invite.by).catch(() => null), getAgency(deps.db, invite.agencyId)]);
  return member ? { by: member.name, agencyName: agency.name } : undefined;
}
