import { createHmac } from 'node:crypto';
import { Hono, type Context } from 'hono';
import * as v from 'valibot';
import {
  consumeSignInToken,
  countRequest,
  EmailSchema,
  endSession,
  ForbiddenError,
  isSignInTokenLive,
  loginHash,
  normalizeAddress,
  RateLimitedError,
  resolveSession,
  SIGN_IN_LINK_MINUTES,
  startSession,
} from '@rapport/core';
import type { Deps } from '../deps';
import { addressId } from '../client-address';
import type { ConsoleEnv } from './env';
import { formFields, TextField } from './form';
import { ConsoleLayout } from './layout';
import { isCrossSite, sessionIdOf, setSessionCookie } from './session';

/** Sign-in requests count in windows of 15 minutes: per client address, and per email address asked for. */
export const SIGN_IN_WINDOW_SECONDS = 900;
/** An office shares one address; one person asks a few times at most. */
export const SIGN_IN_LIMIT_PER_CLIENT = 30;
export const SIGN_IN_LIMIT_PER_EMAIL = 5;

/**
 * Where to go after signing in: only a path of the console (`/app`, `/app/…`), never another
 * origin (`//evil.example`, `/\evil.example`) or anything with control characters.
 */
export function safeNext(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 512) return undefined;
  return /^\/app(?:[/?#][^\\\s\u0000-\u001f\u007f]*)?$/.test(value) && !value.startsWith('/app//') ? value : undefined;
}


const LoginForm = ({ email = '', error, next, notice, signUpOpen }: { email?: string; error?: string; next?: string; notice?: string; signUpOpen: boolean }) => (
  <ConsoleLayout title="Sign in">
    <h1>Sign in to Rapport</h1>
    {notice && (
      <p class="notice" role="status">
        {notice}
      </p>
    )}
    <p>Enter your work email address. We will email you a link that signs you in: there is no password to remember.</p>
    <form method="post" action="/login" class="card narrow" novalidate>
      <TextField name="email" label="Email address" type="email" autocomplete="email" value={email} error={error} required />
      {next && <input type="hidden" name="next" value={next} />}
      <button type="submit">Email me a sign-in link</button>
    </form>
    {signUpOpen && (
      <p>
        New to Rapport? <a href="/signup">Start your agency</a>
      </p>
    )}
  </ConsoleLayout>
);

const BadLink = () => (
  <ConsoleLayout title="This sign-in link does not work">
    <h1>This sign-in link does not work</h1>
    <p>A sign-in link works once, for {SIGN_IN_LINK_MINUTES} minutes. This one has been used, is too old, or is not a link we sent.</p>
    <p>
      <a href="/login">Ask for a new sign-in link</a>
    </p>
  </ConsoleLayout>
);

/** The per-email count is keyed by an HMAC of the address: the table does not say who asked to sign in. */
const emailRateId = (secret: string, email: string) => createHmac('sha256', secret).update(`rapport-signin-v1\u0000${normalizeAddress(email)}`).digest('base64url').slice(0, 22);

/**
 * Counts a sign-in request against the client's address and the email address asked for, side by
 * side; over either, the request stops (429 page). Known and unknown addresses count alike.
 */
export async function limitSignIn({ db, now, linkSecret, clientAddress }: Deps, c: Context, email: string) {
  const at = now();
  const rate = (limit: number) => ({ limit, windowSeconds: SIGN_IN_WINDOW_SECONDS });
  const counted = await Promise.allSettled([
    countRequest(db, { kind: 'SIGNIN', id: addressId(clientAddress(c)) }, rate(SIGN_IN_LIMIT_PER_CLIENT), at, 'Too many sign-in requests from this address'),
    countRequest(db, { kind: 'LOGIN', id: emailRateId(linkSecret, email) }, rate(SIGN_IN_LIMIT_PER_EMAIL), at, 'Too many sign-in requests for this email address'),
  ]);
  const errors = counted.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  const other = errors.find((e) => !(e instanceof RateLimitedError));
  if (other) throw other;
  const limited = (errors as RateLimitedError[]).sort((a, b) => b.retryAfterSeconds - a.retryAfterSeconds)[0];
  if (limited) throw limited;
}

export const refuseCrossSite = (c: Context, deps: Deps) => {
  if (isCrossSite(c, deps.config.publicUrl)) throw new ForbiddenError('This form was not sent from a Rapport page; open the sign-in page and send it again');
};

/**
 * Signing in by email. `POST /login` queues a sign-in job whatever the address (the send worker
 * finds who it belongs to), so its answer, and the time it takes, are the same for every address.
 * The link's GET shows a button and changes nothing (mail scanners open links); its POST signs in.
 */
export function loginRoutes(deps: Deps) {
  const app = new Hono<ConsoleEnv>();
  app.get('/login', (c) => {
    const notice = c.req.query('signedOut') ? 'You are signed out.' : undefined;
    return c.html(<LoginForm next={safeNext(c.req.query('next'))} notice={notice} signUpOpen={deps.config.signUpOpen} />);
  });
  app.post('/login', async (c) => {
    refuseCrossSite(c, deps);
    const form = await formFields(c);
    const next = safeNext(form.next);
    const raw = form.email ?? '';
    const parsed = v.safeParse(EmailSchema, raw);
    if (!parsed.success) return c.html(<LoginForm email={raw} next={next} error="Enter an email address, such as jane@agency.example" signUpOpen={deps.config.signUpOpen} />, 400);
    const email = parsed.output;
    await limitSignIn(deps, c, email);
    await deps.queue.enqueue([{ kind: 'sign-in', login: loginHash(email), ...(next ? { next } : {}) }]);
    return c.redirect('/login/sent', 303);
  });
  app.get('/login/sent', (c) =>
    c.html(
      <ConsoleLayout title="Check your email">
        <h1>Check your email</h1>
        <p>If this address may sign in to Rapport, a sign-in link is on its way. It works once, for {SIGN_IN_LINK_MINUTES} minutes.</p>
        <p>Nothing after a few minutes? Check the spam folder, or make sure it is the address your agency has for you.</p>
        <p>
          <a href="/login">Use another address</a>
        </p>
      </ConsoleLayout>,
    ),
  );
  app.get('/login/:token', async (c) => {
    const token = c.req.param('token');
    if (!(await isSignInTokenLive(deps.db, token, deps.now()))) return c.html(<BadLink />, 404);
    return c.html(
      <ConsoleLayout title="Sign in">
        <h1>Sign in to Rapport</h1>
        <form method="post" action={`/login/${token}`} class="card narrow">
          <p>This link signs you in once. Press the button to go on.</p>
          <button type="submit">Sign in</button>
        </form>
      </ConsoleLayout>,
    );
  });
  app.post('/login/:token', async (c) => {
    refuseCrossSite(c, deps);
    const { db, config } = deps;
    const used = await consumeSignInToken(db, c.req.param('token'), deps.now());
    if (!used) return c.html(<BadLink />, 404);
    const { sessionId } = await startSession(db, used.identity, deps.now(), { login: used.login });
    // A person deactivated since the link was sent gets no session.
    if (!(await resolveSession(db, sessionId, deps.now()))) {
      await endSession(db, sessionId);
      return c.html(<BadLink />, 404);
    }
    const previous = sessionIdOf(c, config.publicUrl);
    if (previous) await endSession(db, previous);
    setSessionCookie(c, config.publicUrl, sessionId);
    return c.redirect(safeNext(used.next) ?? '/app', 303);
  });
  return app;
}
