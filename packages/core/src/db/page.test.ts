import { describe, expect, it } from 'vitest';
import { testDeps } from '@rapport/testing';
import { createAgency } from '../agency/agency';
import { createApiKey, listApiKeys } from '../apikey/apikey';
import { createCampaign, listCampaigns } from '../campaign/campaign';
import { listCommitments, recordCommitment } from '../pro/commitment';
import { createPro, listPros } from '../pro/pro';
import { ValidationError } from '../shared/errors';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { queryPrefix } from './page';

const { db } = testDeps();
const t0 = new Date('2026-03-02T10:00:00.000Z');
const encode = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');
let n = 0;

/** An agency with two of everything its listings page through, and a first-page cursor of each listing. */
async function fixture() {
  const { agencyId } = await createAgency(db, { name: `Cursor test ${++n}` }, t0);
  const pros = [await createPro(db, agencyId, { name: 'Jane', email: `jane${n}@acme.example` }, t0), await createPro(db, agencyId, { name: 'Sam', email: `sam${n}@acme.example` }, t0)];
  const proId = pros[0]!.proId;
  for (const name of ['One', 'Two']) await createCampaign(db, agencyId, { proId, name }, t0);
  for (const role of ['admin', 'read']) await createApiKey(db, agencyId, { role }, t0);
  for (const text of ['Call back', 'Answer within a day']) await recordCommitment(db, agencyId, proId, { text }, t0);
  const page = { limit: 1 };
  const listings = {
    pros: (cursor?: string) => listPros(db, agencyId, { ...page, cursor }),
    apiKeys: (cursor?: string) => listApiKeys(db, agencyId, { ...page, cursor }),
    campaigns: (cursor?: string) => listCampaigns(db, agencyId, {}, { ...page, cursor }),
    proCampaigns: (cursor?: string) => listCampaigns(db, agencyId, { proId }, { ...page, cursor }),
    commitments: (cursor?: string) => listCommitments(db, agencyId, proId, { ...page, cursor }),
  };
  const cursors = Object.fromEntries(await Promise.all(Object.entries(listings).map(async ([name, list]) => [name, (await list()).nextCursor!]))) as Record<keyof typeof listings, string>;
  return { agencyId, proId, listings, cursors };
}

const refusal = (list: (cursor: string) => Promise<unknown>, cursor: string) =>
  list(cursor).then(
    () => 'accepted',
    (error) => (error instanceof ValidationError ? error.issues : error),
  );

describe('cursors (issue 12: crafted cursors made DynamoDB throw a ValidationException)', () => {
  it("takes each listing's own cursor to its next page", async () => {
    const { listings, cursors } = await fixture();
    for (const [name, list] of Object.entries(listings)) {
      const next = await list(cursors[name as keyof typeof cursors]);
      expect(next.items, name).toHaveLength(1);
      expect(next.nextCursor, name).toBeNull();
    }
  });

  it("refuses, on `cursor`, every other listing's cursor", async () => {
    const { listings, cursors } = await fixture();
    for (const [name, list] of Object.entries(listings)) {
      for (const [other, cursor] of Object.entries(cursors)) {
        if (other === name) continue;
        expect(await refusal(list, cursor), `${other}'s cursor on ${name}`).toEqual([{ field: 'cursor', message: 'is not a cursor returned by this list' }]);
      }
    }
  });

  it('refuses, on `cursor`, keys of the right partition with an empty, missing, extra or foreign sort key', async () => {
    const { agencyId, proId, listings } = await fixture();
    const PK = `AG#${agencyId}`;
    const crafted = [
      { PK, SK: '' },
      { PK },
      { PK, SK: 'PRO#x', extra: 'y' },
      { PK, SK: 'AG' },
      { PK, SK: 'CMP#x', GSI1PK: `AG#${agencyId}#PRO#${proId}`, GSI1SK: 'PRO#x' },
      { PK, SK: 'CMP#x', GSI1PK: `AG#${agencyId}#PRO#${proId}`, GSI1SK: '' },
      { PK, SK: 1 },
      [PK, 'PRO#x'],
    ];
    for (const [name, list] of Object.entries(listings)) {
      for (const key of crafted) {
        expect(await refusal(list, encode(key)), `${JSON.stringify(key)} on ${name}`).toEqual([{ field: 'cursor', message: 'is not a cursor returned by this list' }]);
      }
    }
  });
});

describe('a page of large items', () => {
  it('is full (and followed by a cursor) even when DynamoDB stops its first call at 1 MB', async () => {
    // 101 items of 12 KB: 1.2 MB, which one Query call stops short of.
    const partition = `PAGETEST#${Date.now()}`;
    const filler = 'x'.repeat(12_000);
    for (let i = 0; i < 101; i += 25) {
      await db.doc.send(
        new BatchWriteCommand({ RequestItems: { [db.table]: Array.from({ length: Math.min(25, 101 - i) }, (_, j) => ({ PutRequest: { Item: { PK: partition, SK: `ITEM#${String(i + j).padStart(3, '0')}`, filler } } })) } }),
      );
    }
    const first = await queryPrefix(db, { partition, prefix: 'ITEM#' }, { limit: 100 }, (item) => item.SK as string);
    expect(first.items).toEqual(Array.from({ length: 100 }, (_, i) => `ITEM#${String(i).padStart(3, '0')}`));
    expect(first.nextCursor).not.toBeNull();
    const second = await queryPrefix(db, { partition, prefix: 'ITEM#' }, { limit: 100, cursor: first.nextCursor! }, (item) => item.SK as string);
    expect(second).toEqual({ items: ['ITEM#100'], nextCursor: null });
  });
});
