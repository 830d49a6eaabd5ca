import { InternalServerError } from '@aws-sdk/client-dynamodb';
import type { Db, Mailer } from '@rapport/core';

/** What an injected fault does: answer a 5xx, or never answer (a Lambda timing out mid-request). */
export type Fault = '5xx' | 'hang';

/** Which calls a planted fault counts: TransactWriteItems only, or every write (put, update, delete, transaction, batch, PartiQL batch). */
export type FaultTarget = 'transact' | 'write';

const WRITE_COMMANDS = /^(Put|Update|Delete|TransactWrite|BatchWrite|BatchExecuteStatement)Command$/;

/**
 * The Db's engine with a fault planted in one call: DynamoDB Local does not fail on demand. The
 * Nth TransactWriteItems after `failTransactWrite(n)` (the Nth write of any kind after
 * `failWrite(n)`) fails as the service's own 500 would, or hangs; every other call goes to
 * DynamoDB Local unchanged.
 */
export function faultyDb(db: Db) {
  let plan: { nth: number; fault: Fault | (() => Promise<unknown>); target: FaultTarget } | undefined;
  let seen = 0;
  const counts = (command: { constructor: { name: string }; input?: { TransactItems?: unknown } }, target: FaultTarget) =>
    target === 'transact' ? command.input?.TransactItems !== undefined : WRITE_COMMANDS.test(command.constructor.name);
  const send = ((command: { constructor: { name: string }; input?: { TransactItems?: unknown } }, ...rest: unknown[]) => {
    if (plan && counts(command, plan.target) && ++seen === plan.nth) {
      const { fault } = plan;
      plan = undefined;
      if (typeof fault === 'function') return fault().then(() => (db.doc.send as (...args: unknown[]) => Promise<unknown>)(command, ...rest));
      if (fault === 'hang') return new Promise(() => undefined);
      return Promise.reject(new InternalServerError({ message: 'Injected fault: internal server error', $metadata: { httpStatusCode: 500 } }));
    }
    return (db.doc.send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
  }) as Db['doc']['send'];
  const doc = Object.assign(Object.create(db.doc) as Db['doc'], { send });
  const arm = (nth: number, fault: Fault | (() => Promise<unknown>), target: FaultTarget) => {
    plan = { nth, fault, target };
    seen = 0;
  };
  const pause = (nth: number, target: FaultTarget) => {
    let resume!: () => void;
    let reached!: () => void;
    const held = new Promise<void>((resolve) => (resume = resolve));
    const at = new Promise<void>((resolve) => (reached = resolve));
    arm(nth, async () => {
      reached();
      await held;
    }, target);
    return { reached: at, resume };
  };
  return {
    db: { ...db, doc } satisfies Db,
    failTransactWrite: (nth: number, fault: Fault = '5xx') => arm(nth, fault, 'transact'),
    failWrite: (nth: number, fault: Fault = '5xx') => arm(nth, fault, 'write'),
    /** Runs `action` just before the Nth write, which then goes through: another request landing between two writes. */
    beforeWrite: (nth: number, action: () => Promise<unknown>) => arm(nth, action, 'write'),
    /**
     * Holds the next TransactWriteItems until `resume()` (then lets it through); `reached` settles
     * once it is held: what another worker does between this one's read and its write.
     */
    pauseTransactWrite: () => pause(1, 'transact'),
    /** Holds the Nth write of any kind, as `pauseTransactWrite` does. */
    pauseWrite: (nth: number) => pause(nth, 'write'),
    /** Takes back a fault not yet met. */
    disarm() {
      plan = undefined;
    },
  };
}

/**
 * Stub: SES takes the email (sent for real through `mailer`) and answers, then DynamoDB fails the
 * next write (`target`) with a 500: the worker dies between SES's answer and writing it down.
 * Call `disarm()` on the faulty Db after the job if no such write came.
 */
export function dbFailsAfterSesMailer(mailer: Mailer, faulty: ReturnType<typeof faultyDb>, target: FaultTarget = 'transact'): Mailer {
  return {
    async send(message) {
      const sent = await mailer.send(message);
      (target === 'transact' ? faulty.failTransactWrite : faulty.failWrite)(1);
      return sent;
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

/**
 * Stub: an SES call held until `release()`: `called` settles once the worker is in it, so a test can
 * act while the email is in flight. The call then goes on through `mailer` (a refusing one, say).
 */
export function heldMailer(mailer: Mailer): { mailer: Mailer; called: Promise<void>; release: () => void } {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let calling!: () => void;
  const called = new Promise<void>((r) => (calling = r));
  return {
    mailer: {
      async send(message) {
        calling();
        await held;
        return mailer.send(message);
      },
    },
    called,
    release,
  };
}

/** Stub: the connection to SES resets once the request is on its way, before SES took it: SES takes nothing, and the worker cannot tell. */
export const resetBeforeSesMailer: Mailer = {
  send: async () => Promise.reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })),
};

/** Stub: no connection to SES is made at all (refused): certainly not taken, so the send is retried later. */
export const refusedMailer: Mailer = {
  send: async () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
};
