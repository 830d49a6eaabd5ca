import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { failedConditions } from '../db/conditions';
import { listAllPros } from '../pro/pro';
import { allAgencyIds } from '../scores/backfill';
import { listMembers } from './member';
import { putLogin } from './login';
import type { Identity } from './session';

/**
 * Writes the sign-in lookup of the pros and members created before it existed (`admin
 * index-logins`, run once after deploying the console). Each put is conditional on the person's
 * email still being the one read, so a change of it meanwhile (which moves the lookup itself) is
 * never undone; putting an item that exists already changes nothing, so it is safe to run again.
 * Deactivated members are left out. Returns how many lookups it wrote.
 */
export async function indexLogins(db: Db, agencyIds?: string[]): Promise<{ agencies: number; indexed: number }> {
  const done = { agencies: 0, indexed: 0 };
  for (const agencyId of agencyIds ?? (await allAgencyIds(db))) {
    done.agencies++;
    const people: { identity: Identity; key: Record<string, string>; email: string }[] = [
      ...(await listAllPros(db, agencyId)).map((p) => ({ identity: { kind: 'pro', agencyId, proId: p.proId } as Identity, key: keys.pro(agencyId, p.proId), email: p.email })),
      ...(await listMembers(db, agencyId))
        .filter((m) => !m.deactivatedAt)
        .map((m) => ({ identity: { kind: 'member', agencyId, memberId: m.memberId } as Identity, key: keys.member(agencyId, m.memberId), email: m.email })),
    ];
    for (const { identity, key, email } of people) {
      try {
        await db.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                ConditionCheck: {
                  TableName: db.table,
                  Key: key,
                  ConditionExpression: '#email = :email AND attribute_not_exists(deactivatedAt)',
                  ExpressionAttributeNames: { '#email': 'email' },
                  ExpressionAttributeValues: { ':email': email },
                },
              },
              putLogin(db, identity, email),
            ],
          }),
        );
        done.indexed++;
      } catch (error) {
        if (!failedConditions(error)?.length) throw error;
      }
    }
  }
  return done;
}
