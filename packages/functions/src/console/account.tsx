import { Hono } from 'hono';
import { endAllSessions, getAgency, identityOf } from '@rapport/core';
import type { Deps } from '../deps';
import type { ConsoleEnv } from './env';
import { ConsoleLayout, CsrfField } from './layout';
import { Isolated } from '../pages/layout';
import { clearSessionCookie } from './session';

const ROLE_NAMES = { admin: 'Admin: everything, including pros, members, settings and API keys', lead: 'Lead: reads every pro’s results' } as const;

/** `/app/account`: who is signed in, signing out here or everywhere. */
export function accountRoutes(deps: Deps) {
  const app = new Hono<ConsoleEnv>();
  app.get('/', async (c) => {
    const viewer = c.get('viewer');
    const agency = await getAgency(deps.db, viewer.agencyId);
    return c.html(
      <ConsoleLayout title="Account" viewer={viewer} csrf={c.get('csrf')} current="/app/account">
        <h1>Your account</h1>
        <dl class="facts card">
          <dt>Name</dt>
          <dd>
            <Isolated>{viewer.name}</Isolated>
          </dd>
          <dt>Email</dt>
          <dd>
            <Isolated>{viewer.email}</Isolated>
          </dd>
          <dt>Agency</dt>
          <dd>
            <Isolated>{agency.name}</Isolated>
          </dd>
          <dt>Role</dt>
          <dd>{viewer.kind === 'pro' ? 'Pro: your own results and rounds' : ROLE_NAMES[viewer.role]}</dd>
        </dl>
        <p class="muted">You sign in with a link emailed to this address. To change the address, ask an admin of your agency.</p>
        <h2>Signing out</h2>
        <form method="post" action="/logout" class="inline-form">
          <CsrfField token={c.get('csrf')} />
          <button type="submit" class="secondary">
            Sign out
          </button>
        </form>
        <form method="post" action="/app/account/sign-out-everywhere" class="inline-form">
          <CsrfField token={c.get('csrf')} />
          <p>Signed in on a computer you no longer use, or lost a phone? This ends every session of yours, this one included.</p>
          <button type="submit" class="secondary">
            Sign out everywhere
          </button>
        </form>
      </ConsoleLayout>,
    );
  });
  app.post('/sign-out-everywhere', async (c) => {
    await endAllSessions(deps.db, identityOf(c.get('viewer')), deps.now());
    clearSessionCookie(c, deps.config.publicUrl);
    return c.redirect('/login?signedOut=1', 303);
  });
  return app;
}
