import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { withoutKeys } from '../db/items';
import { NotFoundError } from '../shared/errors';
import type { Agency } from './agency';
import { defaultSettings } from './defaults';

/* Reading an agency, apart from ./agency.ts: esbuild keeps every valibot schema of a module a bundle imports, and the export's reads need none. */

export async function getAgency(db: Db, agencyId: string): Promise<Agency> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.agency(agencyId) }));
  if (!Item) throw new NotFoundError('agency');
  // Agencies from before the retention settings keep everything.
  const agency = withoutKeys<Agency>(Item);
  return { ...agency, retention: agency.retention ?? defaultSettings().retention };
}
