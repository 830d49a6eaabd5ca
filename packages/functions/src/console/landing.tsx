import { Hono } from 'hono';
import type { Deps } from '../deps';
import { ConsoleLayout } from './layout';

/**
 * The landing page at `/`: what Rapport is, where to sign in (or start an agency, when sign-up is open), the API reference, and when running
 * locally (an SES endpoint is configured) the local inbox, where every email the app sends lands.
 */
export function landingRoutes({ config }: Deps) {
  const inbox = config.sesEndpoint ? `${new URL(config.sesEndpoint).origin}/` : undefined;
  return new Hono().get('/', (c) =>
    c.html(
      <ConsoleLayout title="Feedback on responsiveness for PR pros">
        <h1>Rapport</h1>
        <p class="lead">After a campaign, PR pros ask the reporters, colleagues and clients they worked with how responsive they were. Rapport sends the short survey, keeps the answers anonymous, and turns them into scores, trends and tips.</p>
        <p class="actions">
          <a class="button" href="/login">
            Sign in
          </a>
          {config.signUpOpen && (
            <a class="button secondary" href="/signup">
              Start your agency
            </a>
          )}
        </p>
        <h2>How it works</h2>
        <ol>
          <li>A pro signs in with their work email address: Rapport emails a link, there is no password.</li>
          <li>They send a round to a media list: upload a CSV from their media database or paste addresses, check the preview, send.</li>
          <li>Recipients answer with one click in the email; on anonymous rounds, answers are released only in groups large enough that no one can be singled out.</li>
          <li>The pro reads their scores, comments and tips, and gets a summary by email. Agency leads see the whole team.</li>
        </ol>
        <h2>For developers</h2>
        <ul>
          <li>
            <a href="/docs">API reference</a> (the same data through the <code>/v1</code> JSON API with an API key)
          </li>
          {inbox && (
            <li>
              <a href={inbox}>Local inbox</a>: every email this local Rapport sends, sign-in links included
            </li>
          )}
        </ul>
      </ConsoleLayout>,
    ),
  );
}
