import { listCampaigns, loginChoices, loginHash, type Db, type Viewer } from '@rapport/core';
import { isAdmin } from './session';

/**
 * The first-steps panel of a new agency's admin (shown on /app until its first campaign): whether
 * to show it, and the admin's own pro page when they are one of the agency's pros too (sign-up's
 * "I send surveys myself", or any admin whose address is a pro's).
 */
export async function firstStepsOf(db: Db, viewer: Viewer): Promise<{ ownProId?: string } | null> {
  if (!isAdmin(viewer)) return null;
  const [campaigns, choices] = await Promise.all([listCampaigns(db, viewer.agencyId, {}, { limit: 1 }), loginChoices(db, loginHash(viewer.email))]);
  if (campaigns.items.length > 0) return null;
  const own = choices.find((c) => c.identity.kind === 'pro' && c.identity.agencyId === viewer.agencyId)?.identity;
  return own?.kind === 'pro' ? { ownProId: own.proId } : {};
}

export const FirstSteps = ({ ownProId }: { ownProId?: string }) => (
  <section class="card first-steps" aria-labelledby="first-steps-h">
    <h2 id="first-steps-h">First steps</h2>
    <ol>
      <li>
        <a href="/app/admin/pros">Add your pros</a>: the people who send surveys about their work. Each signs in with their own email address and sees their own results.
      </li>
      <li>
        <a href="/app/rounds/new">Send your first round</a>: choose or name a campaign, upload a media list (a CSV from Muck Rack, Cision, Prowly or a spreadsheet), check the preview, send.
        {ownProId ? ' As an admin you send for any pro, yourself included.' : ''}
      </li>
      {ownProId && (
        <li>
          <a href={`/app/pros/${ownProId}`}>Your own results</a>: your page as a pro, which fills in once people answer your surveys.
        </li>
      )}
      <li>
        <a href="/app/admin/members">Invite a lead</a> who coaches the team: leads read every pro’s results.
      </li>
    </ol>
  </section>
);
