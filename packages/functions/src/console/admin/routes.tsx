import { Hono } from 'hono';
import type { Deps } from '../../deps';
import type { ConsoleEnv } from '../env';
import { requireAdmin } from '../session';
import { adminPage } from './page';
import { exportRoutes } from './exports';
import { keysRoutes } from './keys';
import { prosRoutes } from './pros';
import { settingsRoutes } from './settings';
import { suppressionRoutes } from './suppressions';

const SECTIONS: [string, string, string][] = [
  ['Members', '/app/admin/members', 'Who signs in to the console: admins and leads. Invite, edit, deactivate.'],
  ['Pros', '/app/admin/pros', 'The agency’s PR pros: add, edit, deactivate.'],
  ['Settings', '/app/admin/settings', 'Anonymity threshold, how often an address may be surveyed, reminders, summaries.'],
  ['API keys', '/app/admin/keys', 'Keys for programs that use Rapport’s API: create, revoke.'],
  ['Suppressions', '/app/admin/suppressions', 'Addresses the agency’s rounds skip: unsubscribes, bounces, complaints.'],
  ['Exports', '/app/admin/exports', 'The released responses as a CSV file.'],
];

/** The admin pages under /app/admin: every route behind `requireAdmin` (a lead or a pro gets the 403 page). */
export const adminRoutes = (deps: Deps) =>
  new Hono<ConsoleEnv>()
    .use(requireAdmin)
    .get('/', (c) =>
      adminPage(
        c,
        'Admin',
        <ul class="sections">
          {SECTIONS.map(([label, href, text]) => (
            <li>
              <a href={href}>{label}</a>
              <span class="muted"> — {text}</span>
            </li>
          ))}
        </ul>,
      ),
    )
    .route('/pros', prosRoutes(deps))
    .route('/settings', settingsRoutes(deps))
    .route('/keys', keysRoutes(deps))
    .route('/suppressions', suppressionRoutes(deps))
    .route('/exports', exportRoutes(deps));
