import type { Child } from 'hono/jsx';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ConsoleEnv } from '../env';
import { ConsoleLayout } from '../layout';

/** An admin page: the console's shell, the Admin tab current, a way back to the admin index. `heading` when it holds user text. */
export const adminPage = (c: Context<ConsoleEnv>, title: string, body: Child, status: ContentfulStatusCode = 200, heading: Child = title) =>
  c.html(
    <ConsoleLayout title={title} viewer={c.get('viewer')} csrf={c.get('csrf')} current="/app/admin">
      <p class="crumbs">
        <a href="/app/admin">Admin</a>
      </p>
      <h1>{heading}</h1>
      {body}
    </ConsoleLayout>,
    status,
  );

/** A date and time as people read it, in UTC (the table shows when, not a time zone's wall clock). */
export const when = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
