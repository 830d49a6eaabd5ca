import { Hono, type Context } from 'hono';
import type { Child } from 'hono/jsx';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ConflictError, createMember, deactivateMember, getMember, listMembers, loginHash, updateMember, ValidationError, type Member, type Viewer } from '@rapport/core';
import type { Deps } from '../deps';
import type { ConsoleEnv } from './env';
import { ConsoleLayout, CsrfField } from './layout';
import { Isolated } from '../pages/layout';
import { requireAdmin } from './session';
import { TextField } from './form';

type Errors = Partial<Record<'name' | 'email' | 'role' | 'form', string>>;
type Values = { name?: string; email?: string; role?: string };

/** A form's errors by field, from the core's validation or conflict; anything else is not the form's to show. */
function formErrors(error: unknown): Errors | null {
  if (error instanceof ValidationError) return Object.fromEntries(error.issues.map((i) => [['name', 'email', 'role'].includes(i.field) ? i.field : 'form', `${i.field === 'email' ? 'Email' : i.field === 'name' ? 'Name' : 'Role'} ${i.message}`]));
  if (error instanceof ConflictError) return { [error.field ?? 'form']: error.message };
  return null;
}

const RoleField = ({ value, error }: { value?: string; error?: string }) => (
  <fieldset class="field" aria-describedby={error ? 'role-error' : undefined}>
    <legend>Role</legend>
    <label class="choice">
      <input type="radio" name="role" value="lead" checked={value !== 'admin'} /> Lead: reads every pro’s results
    </label>
    <label class="choice">
      <input type="radio" name="role" value="admin" checked={value === 'admin'} /> Admin: also manages pros, members, settings and API keys
    </label>
    {error && (
      <p class="error" id="role-error">
        {error}
      </p>
    )}
  </fieldset>
);

const FormError = ({ error }: { error?: string }) =>
  error ? (
    <p class="notice bad" role="alert">
      {error}
    </p>
  ) : null;

const page = (c: Context<ConsoleEnv>, title: string, body: Child, status: ContentfulStatusCode = 200) =>
  c.html(
    <ConsoleLayout title={title} viewer={c.get('viewer')} csrf={c.get('csrf')} current="/app/admin">
      <p class="crumbs">
        <a href="/app/admin">Admin</a> › <a href="/app/admin/members">Members</a>
      </p>
      {body}
    </ConsoleLayout>,
    status,
  );

const DONE: Record<string, string> = {
  invited: 'Invitation sent: they get an email with a sign-in link.',
  saved: 'Changes saved.',
  deactivated: 'Member deactivated: they can no longer sign in, and their sessions have ended.',
};

const MemberList = ({ members, viewer, done }: { members: Member[]; viewer: Viewer; done?: string }) => (
  <>
    <h1 id="members-title">Members</h1>
    {done && DONE[done] && (
      <p class="notice" role="status">
        {DONE[done]}
      </p>
    )}
    <p>Members sign in to see every pro’s results: admins also manage the agency. Pros sign in with the address on their pro record.</p>
    <p>
      <a class="button" href="/app/admin/members/new">
        Invite a member
      </a>
    </p>
    <div class="table-wrap">
      <table aria-labelledby="members-title">
        <thead>
          <tr>
            <th scope="col">Member</th>
            <th scope="col">Role</th>
          </tr>
        </thead>
        <tbody>
          {members.map((m) => (
            <tr>
              <td>
                {m.deactivatedAt ? (
                  <Isolated>{m.name}</Isolated>
                ) : (
                  <a href={`/app/admin/members/${m.memberId}`}>
                    <Isolated>{m.name}</Isolated>
                  </a>
                )}
                {viewer.kind === 'member' && viewer.memberId === m.memberId && ' (you)'}
                <br />
                <span class="muted">
                  <Isolated>{m.email}</Isolated>
                </span>
              </td>
              <td class="role">
                {m.role === 'admin' ? 'Admin' : 'Lead'}
                {m.deactivatedAt && (
                  <>
                    <br />
                    <span class="muted">deactivated {m.deactivatedAt.slice(0, 10)}</span>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  </>
);

const InviteForm = ({ csrf, values = {}, errors = {} }: { csrf: string; values?: Values; errors?: Errors }) => (
  <>
    <h1>Invite a member</h1>
    <FormError error={errors.form} />
    <form method="post" action="/app/admin/members/new" class="card narrow" novalidate>
      <CsrfField token={csrf} />
      <TextField name="name" label="Name" value={values.name} error={errors.name} autocomplete="off" required />
      <TextField name="email" label="Email address" type="email" value={values.email} error={errors.email} hint="They sign in with this address: Rapport emails them a link." autocomplete="off" required />
      <RoleField value={values.role} error={errors.role} />
      <button type="submit">Invite</button>
    </form>
  </>
);

const EditForm = ({ csrf, member, self, values, errors = {} }: { csrf: string; member: Member; self: boolean; values?: Values; errors?: Errors }) => (
  <>
    <h1>
      <Isolated>{member.name}</Isolated>
    </h1>
    <FormError error={errors.form} />
    <p>
      Signs in with <Isolated>{member.email}</Isolated>.
    </p>
    <form method="post" action={`/app/admin/members/${member.memberId}`} class="card narrow" novalidate>
      <CsrfField token={csrf} />
      <TextField name="name" label="Name" value={values?.name ?? member.name} error={errors.name} autocomplete="off" required />
      <RoleField value={values?.role ?? member.role} error={errors.role} />
      <button type="submit">Save changes</button>
    </form>
    <h2>Deactivate</h2>
    {self ? (
      <p>You cannot deactivate yourself: another admin can.</p>
    ) : (
      <form method="post" action={`/app/admin/members/${member.memberId}/deactivate`} class="card narrow">
        <CsrfField token={csrf} />
        <p>
          <Isolated>{member.name}</Isolated> will no longer be able to sign in, and is signed out everywhere at once.
        </p>
        <button type="submit" class="danger">
          Deactivate <Isolated>{member.name}</Isolated>
        </button>
      </form>
    )}
  </>
);

const field = (form: Record<string, unknown>, name: string) => (typeof form[name] === 'string' ? (form[name] as string) : undefined);
const isSelf = (viewer: Viewer, memberId: string) => viewer.kind === 'member' && viewer.memberId === memberId;

/** Admins' pages for the agency's members: list, invite (with a sign-in email), edit, deactivate. */
export function memberRoutes(deps: Deps) {
  const { db } = deps;
  const app = new Hono<ConsoleEnv>().use(requireAdmin);
  app.get('/', async (c) => {
    const members = await listMembers(db, c.get('viewer').agencyId);
    return page(c, 'Members', <MemberList members={members} viewer={c.get('viewer')} done={c.req.query('done')} />);
  });
  app.get('/new', (c) => page(c, 'Invite a member', <InviteForm csrf={c.get('csrf')} />));
  app.post('/new', async (c) => {
    const viewer = c.get('viewer');
    const form = await c.req.parseBody();
    const values = { name: field(form, 'name'), email: field(form, 'email'), role: field(form, 'role') };
    try {
      const member = await createMember(db, viewer.agencyId, values, deps.now());
      const by = viewer.kind === 'member' ? viewer.memberId : '';
      await deps.queue.enqueue([{ kind: 'sign-in', login: loginHash(member.email), invite: { agencyId: viewer.agencyId, by } }]);
    } catch (error) {
      const errors = formErrors(error);
      if (!errors) throw error;
      return page(c, 'Invite a member', <InviteForm csrf={c.get('csrf')} values={values} errors={errors} />, 400);
    }
    return c.redirect('/app/admin/members?done=invited', 303);
  });
  app.get('/:memberId', async (c) => {
    const viewer = c.get('viewer');
    const member = await getMember(db, viewer.agencyId, c.req.param('memberId'));
    return page(c, member.name, <EditForm csrf={c.get('csrf')} member={member} self={isSelf(viewer, member.memberId)} />);
  });
  app.post('/:memberId', async (c) => {
    const viewer = c.get('viewer');
    const member = await getMember(db, viewer.agencyId, c.req.param('memberId'));
    const form = await c.req.parseBody();
    const values = { name: field(form, 'name'), role: field(form, 'role') };
    try {
      await updateMember(db, viewer.agencyId, member.memberId, values, deps.now());
    } catch (error) {
      const errors = formErrors(error);
      if (!errors) throw error;
      return page(c, member.name, <EditForm csrf={c.get('csrf')} member={member} self={isSelf(viewer, member.memberId)} values={values} errors={errors} />, 400);
    }
    return c.redirect('/app/admin/members?done=saved', 303);
  });
  app.post('/:memberId/deactivate', async (c) => {
    const viewer = c.get('viewer');
    const member = await getMember(db, viewer.agencyId, c.req.param('memberId'));
    try {
      await deactivateMember(db, viewer.agencyId, member.memberId, { memberId: viewer.kind === 'member' ? viewer.memberId : '' }, deps.now());
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      return page(c, member.name, <EditForm csrf={c.get('csrf')} member={member} self={isSelf(viewer, member.memberId)} errors={{ form: error.message }} />, 409);
    }
    return c.redirect('/app/admin/members?done=deactivated', 303);
  });
  return app;
}
