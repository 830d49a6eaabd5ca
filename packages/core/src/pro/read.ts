import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { withoutKeys } from '../db/items';
import { NotFoundError } from '../shared/errors';
import { isId } from '../shared/ids';
import type { Pro } from './pro';

/* Reading a pro, apart from ./pro.ts and its schemas (see ../agency/read.ts). */

export async function getPro(db: Db, agencyId: string, proId: string): Promise<Pro> {
  if (!isId('pro', proId)) throw new NotFoundError('pro');
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.pro(agencyId, proId) }));
  if (!Item) throw new NotFoundError('pro');
  return withoutKeys<Pro>(Item);
}
