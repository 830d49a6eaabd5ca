import { describe, expect, it } from 'vitest';
import { createAgency, createCampaign, createPro, createRound, openInvitation } from '@rapport/core';
import { deliver } from '@rapport/core/sending/dispatch';
import { sesEmails, testDeps } from '@rapport/testing';
import { deliveryDeps } from '../deps';
import { sesStoreRecords } from './ses-store-records';

const deps = testDeps();

describe('the local SES store as SES\'s record of first emails and reminders', () => {
  it('finds each invitation\'s first email by its own link, and nothing for an invitation not emailed or another secret\'s links', async () => {
    const at = new Date();
    const tag = `store-${at.getTime()}`;
    const agency = await createAgency(deps.db, { name: `Store ${tag}` }, at);
    const pro = await createPro(deps.db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, at);
    const campaign = await createCampaign(deps.db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, at);
    const emails = ['a', 'b', 'c'].map((who) => `${who}-${tag}@news.example`);
    const { round, accepted } = await createRound(deps.db, agency.agencyId, campaign.campaignId, { recipients: emails.map((email) => ({ email, audience: 'reporter' })) }, at);
    const [a, b, notSent] = accepted.map((i) => ({ kind: 'invitation' as const, roundId: round.roundId, invitationId: i.invitationId }));
    for (const job of [a!, b!]) expect(await deliver(deliveryDeps(deps), job)).toBe('sent');
    // a's reminder carries the same link: the first email is still the invitation's.
    const { invitation } = await openInvitation(deps.db, a!);
    const later = new Date(Date.parse(invitation.nextReminderAt!) + 1000);
    expect(await deliver({ ...deliveryDeps(deps), now: () => later }, { ...a!, kind: 'reminder', dueAt: invitation.nextReminderAt! })).toBe('sent');
    expect(await sesEmails({ to: emails[0]! })).toHaveLength(2);

    const messageIdOf = async (ref: typeof a) => (await openInvitation(deps.db, ref!)).invitation.messageId!;
    const records = sesStoreRecords(deps.config.sesEndpoint!, deps.linkSecret);
    expect(await records.firstEmails([a!, b!, notSent!])).toEqual(new Map([[a!.invitationId, await messageIdOf(a)], [b!.invitationId, await messageIdOf(b)]]));
    expect(await records.firstEmails([])).toEqual(new Map());
    // Reminders are counted apart from the first email: a's first was taken, not its second; b got none.
    expect(await records.reminders([{ ...a!, reminder: 1 }, { ...b!, reminder: 1 }, { ...notSent!, reminder: 1 }])).toEqual(new Set([a!.invitationId]));
    expect(await records.reminders([{ ...a!, reminder: 2 }])).toEqual(new Set());
    // Signed with another secret, the same invitations' links are in no email.
    expect(await sesStoreRecords(deps.config.sesEndpoint!, `${deps.linkSecret}-other`).firstEmails([a!, b!])).toEqual(new Map());
  });

  it('fails, rather than finding nothing, when the SES server does not answer: "no record" would send every cut-off email again', async () => {
    await expect(sesStoreRecords('http://127.0.0.1:9/', deps.linkSecret).firstEmails([{ roundId: 'rnd_x', invitationId: 'inv_x' }])).rejects.toThrow();
  });
});
