import { errorFields, logger } from '../logger';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import {
  AUDIENCE_DIMENSIONS,
  IMPROVE_MAX_LENGTH,
  promisedThreshold,
  NotFoundError,
  openInvitation,
  submitResponse,
  getAgency,
  maskedAddress,
  suppress,
  SurveyClosedError,
  UNDO_UNSUBSCRIBE_HOURS,
  unsuppress,
  ValidationError,
  verifyInvitationToken,
  isOpen,
  needsEarlyWarning,
  type Audience,
  type FieldIssue,
  type InvitationRef,
  type OpenedInvitation,
  type SurveyResponse,
} from '@rapport/core';
import type { Deps } from '../deps';
import { noStore } from '../api/no-store';
import { formOf, invalidLink, invitationLink, limitPages, pageError, pageHeaders, tooLarge, unreadableForm } from './guard';
import { Isolated, Notice } from './layout';
import { PAGES_CSS } from './pages.css';
import { SurveyForm, type FormValues } from './survey-form';

const closed = (c: Context) =>
  c.html(
    <Notice title="This survey has closed">
      <p>Thank you for your interest. The survey is no longer taking answers.</p>
    </Notice>,
    410,
  );

/** The fields a form of this audience may send, in the answers' own shape. */
const answerFields = (audience: Audience) => ['responsiveness', 'recommend', ...AUDIENCE_DIMENSIONS[audience]];

/** The survey form of an opened invitation, with the values and errors to show. */
const surveyForm = (action: string, { round, invitation, response }: Awaited<ReturnType<typeof openInvitation>>, values: FormValues, errors: FieldIssue[]) => (
  <SurveyForm
    action={action}
    proName={round.proName}
    campaignName={round.campaignName}
    audience={invitation.audience}
    attribution={round.attribution}
    closesAt={round.closesAt}
    commitment={round.commitment?.text}
    returning={invitation.returning === true}
    earlyWarnings={round.earlyWarnings}
    anonymityThreshold={promisedThreshold(round)}
    values={values}
    errors={errors}
    revising={round.attribution === 'named' && response !== null}
  />
);

const valuesOf = (response: SurveyResponse | null): FormValues =>
  response
    ? {
        ...Object.fromEntries(Object.entries(response.answers).map(([k, v]) => [k, typeof v === 'boolean' ? (v ? 'yes' : undefined) : String(v)])),
      }
    : {};

/** Form strings to answers: numbers where a number was sent, text left for validation to name. */
function answersFrom(form: Record<string, unknown>, audience: Audience) {
  const answers: Record<string, unknown> = {};
  for (const field of answerFields(audience)) {
    const raw = form[field];
    if (typeof raw === 'string' && raw !== '') answers[field] = /^\d+$/.test(raw) ? Number(raw) : raw;
  }
  if (typeof form.improve === 'string' && form.improve.trim() !== '') answers.improve = form.improve;
  answers.quoteConsent = form.quoteConsent === 'yes';
  return answers;
}

export function pageRoutes(deps: Deps) {
  const { db, now, linkSecret, queue } = deps;
  const refOf = (c: Context): InvitationRef | null => verifyInvitationToken(linkSecret, c.req.param('token') ?? '');
  /** The invitation a verified link leads to, or null: forged and unknown links look the same. */
  /** The request's invitation (null for a forged link or one leading nowhere), read once: begun beside the rate counts (`limitPages`). */
  const opening = new WeakMap<Request, Promise<OpenedInvitation | null>>();
  const openRef = (c: Context) => {
    let read = opening.get(c.req.raw);
    if (!read) {
      const ref = refOf(c);
      read = ref ? openInvitation(db, ref).catch((e) => (e instanceof NotFoundError ? null : Promise.reject(e))) : Promise.resolve(null);
      opening.set(c.req.raw, read);
    }
    return read;
  };

  /** What the unsubscribe pages name: the address, masked (whoever holds the link sees it), and the agency. */
  const whoAndWhere = async ({ round, invitation }: Awaited<ReturnType<typeof openInvitation>>) => ({
    address: maskedAddress(invitation.email),
    // Rounds from before the round kept the agency's name read it from the agency.
    agency: round.agencyName ?? (await getAgency(db, round.agencyId)).name,
  });

  return new Hono()
    .onError(pageError)
    .get('/assets/pages.css', (c) => c.body(PAGES_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'public, max-age=3600' }))
    .use('/s/*', pageHeaders, noStore)
    .use('/u/*', pageHeaders, noStore)
    .use('/s/:token', limitPages(deps, invitationLink, openRef))
    .use('/u/:token', limitPages(deps, invitationLink, openRef))
    .use('/u/*', bodyLimit({ maxSize: 4 * 1024, onError: tooLarge }))
    // Answers are short: 2,000 characters of comment (an emoji is 4 bytes, 12 once form-encoded) and a few numbers.
    .use('/s/*', bodyLimit({ maxSize: IMPROVE_MAX_LENGTH * 12 + 4 * 1024, onError: tooLarge }))
    .get('/s/:token', async (c) => {
      const ref = refOf(c);
      const opened = await openRef(c);
      if (!ref || !opened) return invalidLink(c);
      const { round, response } = opened;
      if (!isOpen(round, now())) return closed(c);
      // A GET never records anything: mail scanners follow every link. The clicked score is only preselected.
      // An anonymous answer is never shown again, nor whether there is one: a link quoted in a reply
      // or forwarded must not let someone else read it.
      const values = round.attribution === 'named' ? valuesOf(response) : {};
      const clicked = c.req.query('score');
      if (clicked && /^[1-5]$/.test(clicked)) values.responsiveness = clicked;
      return c.html(surveyForm(c.req.path, opened, values, []));
    })
    .post('/s/:token', async (c) => {
      const ref = refOf(c);
      const opened = await openRef(c);
      if (!ref || !opened) return invalidLink(c);
      const { round, invitation } = opened;
      const form = await formOf(c);
      if (!form) return unreadableForm(c);
      let response;
      try {
        // What the page read is the submit's first read: one read less per answer.
        response = await submitResponse(db, ref, answersFrom(form, invitation.audience), now(), { opened });
      } catch (error) {
        if (error instanceof SurveyClosedError) return closed(c);
        if (!(error instanceof ValidationError)) throw error;
        const values = Object.fromEntries(Object.entries(form).map(([k, v]) => [k, typeof v === 'string' ? v : undefined]));
        return c.html(surveyForm(c.req.path, opened, values, error.issues), 400);
      }
      if (round.earlyWarnings && needsEarlyWarning(response.answers)) {
        // Fast path: the answer left a due item, so if this fails the recovery sweep queues the warning;
        // either way the answer is stored, and the respondent gets the thank-you page.
        await queue.enqueue([{ kind: 'early-warning', ...ref }]).catch((error) =>
          logger.error('early warning not queued', { roundId: ref.roundId, ...errorFields(error) }),
        );
      }
      const until = round.closesAt.slice(0, 10);
      return c.html(
        <Notice title="Thank you">
          {round.attribution === 'named' ? (
            <p>
              Your answers are saved. <Isolated>{round.proName}</Isolated> and their team see them with your name, as this survey said. They help them become more
              responsive to you and others.
            </p>
          ) : (
            <p>
              Your answers are saved. <Isolated>{round.proName}</Isolated> sees them only after this survey closes, pooled with the answers of at least{' '}
              {promisedThreshold(round)} people, and never with your name. They help them become more responsive to you and others.
            </p>
          )}
          <p class="note">You can change them with the same link until {until}.</p>
        </Notice>,
      );
    })
    .get('/u/:token', async (c) => {
      const opened = await openRef(c);
      if (!opened) return invalidLink(c);
      const { address, agency } = await whoAndWhere(opened);
      // Confirm first: a scanner following the link must not unsubscribe anyone.
      return c.html(
        <Notice title="Stop these surveys?">
          <p>
            This stops feedback surveys to <strong>{address}</strong>.
          </p>
          <form method="post" action={c.req.path}>
            <fieldset>
              <legend>Which surveys should stop?</legend>
              <p class="check">
                <input type="radio" id="scope-agency" name="scope" value="agency" checked />
                <label for="scope-agency">
                  Surveys from <Isolated>{agency}</Isolated> (about <Isolated>{opened.round.proName}</Isolated> and their colleagues)
                </label>
              </p>
              <p class="check">
                <input type="radio" id="scope-all" name="scope" value="all" />
                <label for="scope-all">All surveys sent through Rapport, from any agency</label>
              </p>
            </fieldset>
            <button type="submit">Unsubscribe</button>
          </form>
        </Notice>,
      );
    })
    .post('/u/:token', async (c) => {
      const ref = refOf(c);
      const opened = await openRef(c);
      if (!ref || !opened) return invalidLink(c);
      // Also the RFC 8058 one-click POST (body `List-Unsubscribe=One-Click`): that one stops the agency's surveys.
      const form = await formOf(c);
      if (!form) return unreadableForm(c);
      const { address, agency } = await whoAndWhere(opened);
      const { email } = opened.invitation;
      const agencyScope = { agencyId: opened.round.agencyId };
      const from = (everywhere: boolean) => (everywhere ? 'any agency, through Rapport' : <Isolated>{agency}</Isolated>);
      if (form.undo === 'agency' || form.undo === 'all') {
        const everywhere = form.undo === 'all';
        // Only this link's own unsubscribe, and only for a while: never a bounce, a complaint, or someone else's choice.
        if (!(await unsuppress(db, email, everywhere ? { global: true, ...agencyScope } : agencyScope, ref.invitationId, now()))) {
          return c.html(
            <Notice title="This can no longer be undone">
              <p>
                The unsubscribe was made more than {UNDO_UNSUBSCRIBE_HOURS} hours ago, or not with this link, so <strong>{address}</strong> stays unsubscribed.
              </p>
            </Notice>,
            409,
          );
        }
        return c.html(
          <Notice title="You are subscribed again">
            <p>
              <strong>{address}</strong> may again get feedback surveys from {from(everywhere)}.
            </p>
          </Notice>,
        );
      }
      const everywhere = form.scope === 'all';
      await suppress(db, email, 'unsubscribed', everywhere ? { global: true, ...agencyScope } : agencyScope, now(), { via: ref.invitationId });
      return c.html(
        <Notice title="You are unsubscribed">
          <p>
            <strong>{address}</strong> will get no more feedback surveys from {from(everywhere)}.
          </p>
          <form method="post" action={c.req.path}>
            <input type="hidden" name="undo" value={everywhere ? 'all' : 'agency'} />
            <button type="submit">Undo</button>
          </form>
          <p class="note">A mistake? You can undo this from this link for {UNDO_UNSUBSCRIBE_HOURS} hours.</p>
        </Notice>,
      );
    })
    // Any other path or method under the links' prefixes is a page too, not the API's 404.
    .all('/s/*', invalidLink)
    .all('/u/*', invalidLink);
}
