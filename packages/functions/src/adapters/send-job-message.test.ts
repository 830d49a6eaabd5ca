import type { SendJob } from '@rapport/core';
import { describe, expect, it } from 'vitest';
import { decodeJob, encodeJob } from './send-job-message';

describe('a send job as an SQS message body', () => {
  it('decodes only well-formed send jobs', () => {
    const reminder: SendJob = { kind: 'reminder', roundId: 'rnd_1', invitationId: 'inv_1', dueAt: '2026-03-04T09:00:00.000Z' };
    expect(decodeJob(encodeJob(reminder))).toEqual(reminder);
    const warning: SendJob = { kind: 'early-warning', roundId: 'rnd_1', invitationId: 'inv_1' };
    expect(decodeJob(encodeJob(warning))).toEqual(warning);
    const otherJobs: SendJob[] = [
      { kind: 'early-warning', roundId: 'rnd_1', invitationId: 'inv_1', retries: 3 },
      { kind: 'close-round', roundId: 'rnd_1' },
      { kind: 'close-round', roundId: 'rnd_1', notBefore: '2030-03-18T09:00:00.000Z' },
      { kind: 'webhook', webhookId: 'whk_1', deliveryId: 'dlv_1', notBefore: '2030-03-18T09:30:00.000Z' },
      { kind: 'summaries', agencyId: 'agy_1', period: '2030-W10' },
      { kind: 'summaries', agencyId: 'agy_1', period: '2030-W10', page: { listing: '2030-03-11T09:00:00.000Z', cursor: 'eyJQSyI6IkFHIzEifQ' } },
      { kind: 'summary', agencyId: 'agy_1', proId: 'pro_1', period: '2030-06', retries: 2 },
      { kind: 'agency-summary', agencyId: 'agy_1', period: '2030-06' },
      { kind: 'sign-in', login: 'a'.repeat(64) },
      { kind: 'sign-in', login: 'a'.repeat(64), next: '/app/account', invite: { agencyId: 'agy_1', by: 'mbr_1' }, retries: 1 },
      { kind: 'sign-up', request: 'A'.repeat(22), retries: 2 },
    ];
    for (const job of otherJobs) expect(decodeJob(encodeJob(job))).toEqual(job);
    for (const poison of ['', 'not json', '{}', '{"kind":"invitation","roundId":"rnd_1"}', '{"kind":"reminder","roundId":"r","invitationId":"i","dueAt":"soon"}', '{"kind":"invitation","roundId":"r","invitationId":"i","email":"a@b.example"}', '{"kind":"summary","agencyId":"a","proId":"p","period":"2030-13"}', '{"kind":"summaries","agencyId":"a","period":"2030-W10","page":{"cursor":""}}', '{"kind":"close-round","roundId":"r","invitationId":"i"}', '{"kind":"close-round","roundId":"r","notBefore":"tomorrow"}', '{"kind":"sign-in","login":"a@b.example"}', `{"kind":"sign-in","login":"${'a'.repeat(64)}","email":"a@b.example"}`, `{"kind":"sign-up","request":"${'A'.repeat(22)}","email":"a@b.example"}`]) {
      expect(decodeJob(poison)).toBeNull();
    }
  });
});
