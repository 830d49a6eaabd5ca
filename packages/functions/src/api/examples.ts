import { defaultSettings, INVITATION_STATUSES, SKIP_REASONS } from '@rapport/core';

/**
 * Whole bodies for the OpenAPI document: one story (Jane Doe's product launch, surveyed once),
 * so the ids agree from one operation to the next. The OpenAPI test checks each against its schema.
 */
const at = '2026-11-24T09:00:00.000Z';
const ids = {
  agency: 'ag_01JD2Q7ZK3V8N6M4R2T0W9X5YB',
  pro: 'pro_01JD2Q8A1B2C3D4E5F6G7H8J9K',
  campaign: 'cmp_01JD2Q9M4N5P6Q7R8S9T0V1W2X',
  survey: 'rnd_01JD2QA3B4C5D6E7F8G9H0J1K2',
  invitation: 'inv_01JD2QB5C6D7E8F9G0H1J2K3M4',
  key: 'key_01JD2QC7D8E9F0G1H2J3K4M5N6',
  commitment: 'cmt_01JD2QD9E0F1G2H3J4K5M6N7P8',
  webhook: 'whk_01JD2QEAF1G2H3J4K5M6N7P8Q9',
  delivery: 'dlv_01JD2QFBG2H3J4K5M6N7P8Q9R0',
  erasure: 'era_01JD2QGCH3J4K5M6N7P8Q9R0S1',
};
export const exampleIds = ids;

/** A page holding these items, the last one. */
export const pageExample = <T>(...data: T[]) => ({ data, nextCursor: null });

export const proInputExample = { name: 'Jane Doe', email: 'jane@agency.example' };
export const proExample = { proId: ids.pro, ...proInputExample, createdAt: at, updatedAt: at };
export const proPatchExample = { name: 'Jane Doe-Smith' };

export const campaignInputExample = { proId: ids.pro, name: 'Product launch', startsOn: '2026-11-01', endsOn: '2026-11-20', tags: ['launch'] };
export const campaignExample = { campaignId: ids.campaign, ...campaignInputExample, createdAt: at };

export const surveyInputExample = {
  recipients: [
    { email: 'sam@newsroom.example', name: 'Sam Reporter', audience: 'reporter', outlet: 'The Daily Example' },
    { email: 'not-an-address', audience: 'reporter' },
  ],
  attribution: 'anonymous',
};
const counts = (set: Partial<Record<(typeof INVITATION_STATUSES)[number], number>>) => Object.fromEntries(INVITATION_STATUSES.map((s) => [s, set[s] ?? 0]));
export const surveyExample = {
  surveyId: ids.survey,
  campaignId: ids.campaign,
  proId: ids.pro,
  attribution: 'anonymous',
  status: 'open',
  counts: counts({ sent: 1 }),
  responseRatePercent: 0,
  createdAt: at,
  closesAt: '2026-12-08T09:00:00.000Z',
};
export const skippedExample = { index: 1, email: 'not-an-address', reason: 'invalid' };
export const surveyCreatedExample = {
  ...surveyExample,
  counts: counts({ pending: 1 }),
  responseRatePercent: null,
  accepted: 1,
  skippedTotal: 1,
  skippedCounts: Object.fromEntries(SKIP_REASONS.map((r) => [r, r === 'invalid' ? 1 : 0])),
  skipped: [skippedExample],
};
export const invitationExample = {
  invitationId: ids.invitation,
  email: 'sam@newsroom.example',
  name: 'Sam Reporter',
  audience: 'reporter',
  outlet: 'The Daily Example',
  status: 'sent',
  createdAt: at,
  sentAt: '2026-11-24T09:00:05.000Z',
  respondedAt: null,
  remindersSent: null,
  nextReminderAt: null,
  failureReason: null,
  retries: 0,
};

export const commitmentInputExample = { text: 'I will answer reporters within two hours' };
export const commitmentExample = { commitmentId: ids.commitment, proId: ids.pro, ...commitmentInputExample, createdAt: at };

export const apiKeyInputExample = { role: 'read', name: 'CRM sync' };
export const apiKeyExample = { keyId: ids.key, role: 'read', name: 'CRM sync', hint: 'x7Qe', createdAt: at, revokedAt: null };
export const apiKeyCreatedExample = { ...apiKeyExample, secret: 'rpk_2b7f0c9e4d1a8b3c6e5f7a9d0c1b2e3f4a5d6c7b8e9fx7Qe' };

export const settingsExample = { agencyId: ids.agency, name: 'Example PR', ...defaultSettings('Europe/London'), createdAt: at, updatedAt: at };
export const settingsPatchExample = { anonymityThreshold: 5, reminders: { reporterDays: [3] } };

export const webhookInputExample = { url: 'https://crm.example/hooks/rapport', events: ['round.closed', 'responses.released'], description: 'CRM' };
export const webhookExample = {
  webhookId: ids.webhook,
  ...webhookInputExample,
  enabled: true,
  disabledReason: null,
  disabledAt: null,
  createdAt: at,
  updatedAt: at,
  previousSecretExpiresAt: null,
};
export const webhookWithSecretExample = { ...webhookExample, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' };
export const webhookPatchExample = { rotateSecret: true };
export const deliveryExample = {
  deliveryId: ids.delivery,
  webhookId: ids.webhook,
  eventId: 'msg_01JD2QGCH3J4K5M6N7P8Q9R0S1',
  eventType: 'round.closed',
  status: 'pending',
  attempts: [{ at, statusCode: 500, error: 'answered 500' }],
  lastStatusCode: 500,
  nextAttemptAt: '2026-11-24T09:00:05.000Z',
  createdAt: at,
};

// Scores: three reporters answered; the other items and audiences are left out, as when unanswered.
const responsiveness = {
  n: 3,
  mean: 4,
  ci: [2.5652, 5],
  percentResponsive: { responsive: 2, percent: 66.66666666666667, ci: [20.7655, 93.8510] },
};
const recommend = { n: 3, mean: 8.6667, ci: [6.1, 10], nps: { promoters: 2, passives: 1, detractors: 0, score: 66.66666666666667, ci: [5.2, 100] } };
const group = { n: 3, items: { responsiveness, recommend } };
const period = (name: string) => ({ period: name, delivered: 4, responses: 3, responseRatePercent: 75, total: group, audiences: { reporter: group } });
const range = { from: '2026-11', to: '2026-11', granularity: 'month', audience: null, anonymityThreshold: 3, periods: [period('2026-11')] };
export const proScoresExample = { proId: ids.pro, ...range };
export const campaignScoresExample = { campaignId: ids.campaign, proId: ids.pro, anonymityThreshold: 3, delivered: 4, responses: 3, responseRatePercent: 75, total: group, audiences: { reporter: group } };
export const agencyScoresExample = { ...range, pros: [{ proId: ids.pro, name: 'Jane Doe', ...group }], nextCursor: null };

const release = { batchId: 'bat_01JD2QH', releasedAt: '2026-12-08T09:00:00.000Z', campaignId: ids.campaign, campaignName: 'Product launch', period: '2026-11' };
export const responseListExample = {
  data: [
    {
      ...release,
      surveyId: null,
      invitationId: null,
      proId: ids.pro,
      audience: 'reporter',
      attribution: 'anonymous',
      respondent: null,
      instrumentVersion: 1,
      answers: { responsiveness: 5, recommend: 9, listening: 4, improve: 'Answer the phone on deadline days.', quoteConsent: true },
      firstSubmittedAt: null,
      submittedAt: null,
      revision: null,
    },
  ],
  nextCursor: null,
  anonymityThreshold: 3,
};
export const testimonialListExample = {
  data: [{ ...release, quote: 'Always there on deadline.', recommend: 10, proId: ids.pro, audience: 'reporter', attribution: 'anonymous', respondent: null }],
  nextCursor: null,
  anonymityThreshold: 3,
};

export const summaryPreviewExample = {
  period: { key: '2026-11', label: 'November 2026', from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' },
  quiet: true,
  summary: null,
  subject: null,
  html: null,
  text: null,
};

export const suppressionInputExample = { email: 'ana@news.example' };
export const suppressionExample = { email: 'ana@news.example', reason: 'unsubscribed', scope: 'agency', at, addedBy: ids.key };
export const erasureInputExample = { email: 'ana@news.example' };
export const erasureExample = {
  erasureId: ids.erasure,
  addressHash: '6f1ed002ab5595859014ebf0951522d9e7a4c2d5e2a8d6f0f6b3f5e9b1d2c3a4',
  status: 'done',
  requestedAt: at,
  requestedBy: ids.key,
  completedAt: at,
  erased: { invitations: 2, responses: 1, webhookBodies: 0, storedAnswers: 0 },
};
export const deactivatedProExample = { ...proExample, deactivatedAt: at, updatedAt: at };
