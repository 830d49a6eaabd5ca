import type { Context, SNSEvent } from 'aws-lambda';
import { handleSesNotification, ValidationError } from '@rapport/core';
import { errorFields, logger } from '../logger';
import { lambdaDb, now } from './runtime';

/**
 * SES bounce and complaint events, published by the SES configuration set to an SNS topic
 * (`infra/email.ts`). A permanent bounce or a complaint suppresses the address for every agency.
 * A malformed notification is logged and dropped (retrying cannot mend it); any other error
 * fails the invocation: Lambda retries it twice, then puts the event in the SES-event dead-letter
 * queue (`infra/email.ts`). Handling one twice changes nothing more. Logged: the outcome and ids,
 * never the addresses.
 */
export async function handler(event: SNSEvent, context: Context): Promise<void> {
  logger.addContext(context);
  const db = lambdaDb();
  for (const record of event.Records) {
    const messageId = record.Sns.MessageId;
    try {
      const outcome = await handleSesNotification(db, record.Sns.Message, now());
      logger.info('SES notification handled', { messageId, kind: outcome.kind, suppressed: outcome.suppressed.length, invitation: outcome.invitation });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      logger.error('SES notification malformed, dropped', { messageId, ...errorFields(error) });
    }
  }
}
