import type { Mailer } from '@rapport/core';

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
