import { InternalServerError } from '@aws-sdk/client-dynamodb';
import type { Db, Mailer } from '@rapport/core';

/** What an injected fault does: answer a 5xx, or never answer (a Lambda timing out mid-request). */
export type Fault = '5xx' | 'hang';

/**
 * The Db's engine with a fault planted in one call: DynamoDB Local does not fail on demand. The
 * Nth TransactWriteItems after `failTransactWrite(n)` fails as the service's own 500 would, or
 * hangs; every other call goes to DynamoDB Local unchanged.
 */
export function faultyDb(db: Db) {
  let plan: { nth: number; fault: Fault } | undefined;
  let seen = 0;
  const send = ((command: { input?: { TransactItems?: unknown } }, ...rest: unknown[]) => {
    if (plan && command.input?.TransactItems !== undefined && ++seen === plan.nth) {
      const { fault } = plan;
      plan = undefined;
      if (fault === 'hang') return new Promise(() => undefined);
      return Promise.reject(new InternalServerError({ message: 'Injected fault: internal server error', $metadata: { httpStatusCode: 500 } }));
    }
    return (db.doc.send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
  }) as Db['doc']['send'];
  const doc = Object.assign(Object.create(db.doc) as Db['doc'], { send });
  return {
    db: { ...db, doc } satisfies Db,
    failTransactWrite(nth: number, fault: Fault = '5xx') {
      plan = { nth, fault };
      seen = 0;
    },
  };
}

/**
 * Stub of a fault the local SES server cannot produce: SES takes the email (it is sent for real
 * through `mailer`), then the connection resets before its answer arrives. What a worker killed
 * between SES's answer and its own write leaves behind, too: an invitation `sending`, with an
 * email in SES's record.
 */
export function answerLostMailer(mailer: Mailer): Mailer {
  return {
    async send(message) {
      await mailer.send(message);
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    },
  };
}
