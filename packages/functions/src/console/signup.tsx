import { Hono, type MiddlewareHandler } from 'hono';
import * as v from 'valibot';
import { completeSignUp, endSession, readSignUpToken, requestSignUp, SIGN_IN_LINK_MINUTES, SignUpInputSchema, startSession, toFieldIssues } from '@rapport/core';
import type { Deps } from '../deps';
import type { ConsoleEnv } from './env';
import { Isolated } from '../pages/layout';
import { ConsoleLayout } from './layout';
import { limitSignIn, refuseCrossSite } from './login';
import { formFields, TextField } from './form';
import { sessionIdOf, setSessionCookie } from './session';

type Values = { agencyName: string; name: string; email: string; sendsSurveys: boolean };
type Errors = Partial<Record<'agencyName' | 'name' | 'email', string>>;

/** What each field's error says, whatever valibot's words. */
const FIELD_ERRORS: Required<Errors> = {
  agencyName: 'Enter your agency’s name (up to 200 characters)',
  name: 'Enter your name (up to 200 characters)',
  email: 'Enter an email address, such as jane@agency.example',
};

const SignUpForm = ({ values, errors = {} }: { values: Values; errors?: Errors }) => (
  <ConsoleLayout title="Start your agency">
    <h1>Start your agency on Rapport</h1>
    {Object.keys(errors).length > 0 && (
      <p class="notice bad" role="alert">
        Please correct what is marked below.
      </p>
    )}
    <p>Tell us your agency’s name and your work email address. We will email you a link that creates the agency, with you as its admin: there is no password.</p>
    <form method="post" action="/signup" class="card narrow" novalidate>
      <TextField name="agencyName" label="Agency name" autocomplete="organization" value={values.agencyName} error={errors.agencyName} required />
      <TextField name="name" label="Your name" autocomplete="name" value={values.name} error={errors.name} required />
      <TextField name="email" label="Your work email address" type="email" autocomplete="email" value={values.email} error={errors.email} required />
      <div class="field check">
        <input type="checkbox" id="sendsSurveys" name="sendsSurveys" value="on" checked={values.sendsSurveys} aria-describedby="sendsSurveys-hint" />
        <label for="sendsSurveys">I send surveys myself</label>
      </div>
      <p class="hint" id="sendsSurveys-hint">
        Then you are one of the agency’s pros too: you send rounds about your own work and see your own results.
      </p>
      <button type="submit">Email me the link</button>
    </form>
    <p>
      Your agency is on Rapport already? <a href="/login">Sign in</a>, or ask its admin to add you.
    </p>
  </ConsoleLayout>
);

const Closed = () => (
  <ConsoleLayout title="Ask your agency’s admin">
    <h1>Ask your agency’s admin</h1>
    <p>New agencies are not started from this page here. If your agency uses Rapport, ask its admin to add you; then sign in with your work email address.</p>
    <p>
      <a class="button" href="/login">
        Sign in
      </a>
    </p>
  </ConsoleLayout>
);

const BadLink = () => (
  <ConsoleLayout title="This link does not work">
    <h1>This link does not work</h1>
    <p>A link to create an agency works once, for {SIGN_IN_LINK_MINUTES} minutes. This one has been used, is too old, or is not a link we sent.</p>
    <p>
      Created the agency already? <a href="/login">Sign in</a>. Otherwise <a href="/signup">ask for a new link</a>.
    </p>
  </ConsoleLayout>
);

/**
 * Starting an agency without anyone's help (`SIGNUP=open`): `POST /signup` queues the email with a
 * one-time link, answering the same whatever the address (counted with the sign-in requests); the
 * link's GET shows a button (mail scanners open links), its POST creates the agency, its admin and
 * (when they send surveys) the same person as a pro, then signs in as the admin. Closed, the pages
 * say to ask the agency's admin.
 */
export function signUpRoutes(deps: Deps) {
  const app = new Hono<ConsoleEnv>();
  const open: MiddlewareHandler = async (c, next) => (deps.config.signUpOpen ? next() : c.html(<Closed />, c.req.method === 'GET' ? 200 : 403));
  app.use('/signup', open);
  app.use('/signup/*', open);
  app.get('/signup', (c) => c.html(<SignUpForm values={{ agencyName: '', name: '', email: '', sendsSurveys: true }} />));
  app.post('/signup', async (c) => {
    refuseCrossSite(c, deps);
    const form = await formFields(c);
    const values: Values = { agencyName: form.agencyName ?? '', name: form.name ?? '', email: form.email ?? '', sendsSurveys: form.sendsSurveys === 'on' };
    const parsed = v.safeParse(SignUpInputSchema, values);
    if (!parsed.success) {
      const errors: Errors = Object.fromEntries(toFieldIssues(parsed.issues).flatMap((i) => (i.field in FIELD_ERRORS ? [[i.field, FIELD_ERRORS[i.field as keyof Errors]]] : [])));
      return c.html(<SignUpForm values={values} errors={errors} />, 400);
    }
    await limitSignIn(deps, c, parsed.output.email);
    const request = await requestSignUp(deps.db, parsed.output, deps.now());
    await deps.queue.enqueue([{ kind: 'sign-up', request }]);
    return c.redirect('/signup/sent', 303);
  });
  app.get('/signup/sent', (c) =>
    c.html(
      <ConsoleLayout title="Check your email">
        <h1>Check your email</h1>
        <p>A link that creates your agency is on its way to the address you gave. It works once, for {SIGN_IN_LINK_MINUTES} minutes.</p>
        <p>Nothing after a few minutes? Check the spam folder, or start again with the right address.</p>
        <p>
          <a href="/signup">Start again</a>
        </p>
      </ConsoleLayout>,
    ),
  );
  app.get('/signup/:token', async (c) => {
    const token = c.req.param('token');
    const pending = await readSignUpToken(deps.db, token, deps.now());
    if (!pending) return c.html(<BadLink />, 404);
    return c.html(
      <ConsoleLayout title="Create your agency">
        <h1>
          Create <Isolated>{pending.agencyName}</Isolated>
        </h1>
        <form method="post" action={`/signup/${token}`} class="card narrow">
          <p>
            You, <Isolated>{pending.name}</Isolated>, will be its admin{pending.sendsSurveys ? ' and one of its pros' : ''}. This link works once: press the button to go on.
          </p>
          <button type="submit">Create the agency and sign in</button>
        </form>
      </ConsoleLayout>,
    );
  });
  app.post('/signup/:token', async (c) => {
    refuseCrossSite(c, deps);
    const { db, config } = deps;
    const done = await completeSignUp(db, c.req.param('token'), deps.now());
    if (!done) return c.html(<BadLink />, 404);
    const { sessionId } = await startSession(db, done.identity, deps.now());
    const previous = sessionIdOf(c, config.publicUrl);
    if (previous) await endSession(db, previous);
    setSessionCookie(c, config.publicUrl, sessionId);
    return c.redirect('/app', 303);
  });
  return app;
}
