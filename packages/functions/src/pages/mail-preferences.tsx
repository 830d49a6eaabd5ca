import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { mailPreferences, setMailPreferences, verifyMailToken, type MailRecipient, type MailStream } from '@rapport/core';
import type { Deps } from '../deps';
import { Notice } from './layout';
import { noStore } from '../api/no-store';
import { formOf, invalidLink, limitPages, mailLink, pageError, pageHeaders, tooLarge } from './guard';

const LABELS: Record<MailStream, string> = {
  summaries: 'Improvement summaries',
  earlyWarnings: 'Early warnings about a low score',
  agencySummary: 'The agency summary (team table, movers, pros who need attention)',
};

/** The streams a link's recipient may stop: a pro's two, or an admin's one. */
const streamsOf = (recipient: MailRecipient): MailStream[] => (recipient.stream === 'agencySummary' ? ['agencySummary'] : ['summaries', 'earlyWarnings']);

const NOUNS: Record<MailStream, string> = { summaries: 'improvement summaries', earlyWarnings: 'early warnings', agencySummary: 'agency summaries' };

const listed = (streams: MailStream[]) => streams.map((s) => NOUNS[s]).join(' and ');

/** A choice from the form (`all` or one stream of the recipient's), or null. */
function chosen(value: unknown, recipient: MailRecipient): MailStream[] | null {
  const streams = streamsOf(recipient);
  if (value === 'all') return streams;
  return typeof value === 'string' && (streams as string[]).includes(value) ? [value as MailStream] : null;
}

/** A button that posts `field=value` back to the link: resuming or stopping, never done by a GET. */
const PostButton = ({ action, field, value, label }: { action: string; field: 'stop' | 'resume'; value: string; label: string }) => (
  <form method="post" action={action}>
    <input type="hidden" name={field} value={value} />
    <button type="submit">{label}</button>
  </form>
);

/**
 * `/m/{token}`: the preference link of a summary, an agency summary or an early warning (the
 * `List-Unsubscribe` URL of those emails, and a visible link in them). A GET only shows the choice
 * (mail scanners follow every link); a POST applies it: `stop` or `resume` from the page, or the
 * RFC 8058 one-click body `List-Unsubscribe=One-Click`, which stops the stream the email belonged
 * to. The answer to a stop offers an undo. Forged, altered and expired links get the invalid-link page.
 */
export function mailPreferenceRoutes(deps: Deps) {
  const { db, now, linkSecret } = deps;
  const recipientOf = (c: Context) => verifyMailToken(linkSecret, c.req.param('token') ?? '', now());

  return new Hono()
    .onError(pageError)
    .use('/m/*', pageHeaders, noStore)
    .use('/m/:token', limitPages(deps, mailLink))
    .use('/m/*', bodyLimit({ maxSize: 4 * 1024, onError: tooLarge }))
    .get('/m/:token', async (c) => {
      const recipient = recipientOf(c);
      const receiving = recipient && (await mailPreferences(db, recipient));
      if (!recipient || !receiving) return invalidLink(c);
      const streams = streamsOf(recipient);
      const stopped = streams.filter((s) => receiving[s] === false);
      const active = streams.filter((s) => receiving[s] !== false);
      return c.html(
        <Notice title="Your emails from Rapport">
          {active.length > 0 && (
            <form method="post" action={c.req.path}>
              <fieldset>
                <legend>Which emails should stop?</legend>
                {active.map((s) => (
                  <p class="check">
                    <input type="radio" id={`stop-${s}`} name="stop" value={s} checked={s === recipient.stream || active.length === 1} />
                    <label for={`stop-${s}`}>{LABELS[s]}</label>
                  </p>
                ))}
                {active.length > 1 && (
                  <p class="check">
                    <input type="radio" id="stop-all" name="stop" value="all" />
                    <label for="stop-all">Both</label>
                  </p>
                )}
              </fieldset>
              <button type="submit">Stop these emails</button>
            </form>
          )}
          {stopped.map((s) => (
            <>
              <p>You have stopped {NOUNS[s]}.</p>
              <PostButton action={c.req.path} field="resume" value={s} label={`Get ${NOUNS[s]} again`} />
            </>
          ))}
          {streams.includes('summaries') && <p class="note">How often summaries come (weekly, monthly or never) is your agency's setting.</p>}
        </Notice>,
      );
    })
    .post('/m/:token', async (c) => {
      const recipient = recipientOf(c);
      if (!recipient) return invalidLink(c);
      const form = (await formOf(c)) ?? {};
      const resume = chosen(form.resume, recipient);
      // The one-click POST of RFC 8058 names no stream: it stops the one the email belonged to.
      const stop = chosen(form.stop, recipient) ?? (form['List-Unsubscribe'] === 'One-Click' ? [recipient.stream] : null);
      const streams = resume ?? stop;
      if (!streams) {
        return c.html(
          <Notice title="Nothing was changed">
            <p>Please choose which emails should stop, from the link in one of them.</p>
          </Notice>,
          400,
        );
      }
      if (!(await setMailPreferences(db, recipient, streams, resume !== null, now()))) return invalidLink(c);
      const all = streams.length > 1 ? 'all' : streams[0]!;
      return c.html(
        resume ? (
          <Notice title="They will come again">
            <p>You will get {listed(streams)} again.</p>
          </Notice>
        ) : (
          <Notice title="Stopped">
            <p>You will get no more {listed(streams)}.</p>
            <PostButton action={c.req.path} field="resume" value={all} label="Undo" />
          </Notice>
        ),
      );
    })
    .all('/m/*', invalidLink);
}
