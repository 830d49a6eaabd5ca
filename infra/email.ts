import { commonEnvironment, handlers, settings } from './settings';
import { table } from './table';

const { email: mail } = settings;
const isDomain = !mail.identity.includes('@');

/**
 * SES events for the emails we send: sends, bounces and complaints, published by the identity's
 * configuration set to this topic. Who uses it: SES publishes; the SES-event function below reads.
 */
export const sesEvents = new sst.aws.SnsTopic('SesEvents');

/**
 * The SES identity every survey email is sent from, with its configuration set. For a domain
 * (recommended), SST writes the DKIM records, a DMARC record and, if set, a MAIL FROM subdomain
 * (MX + SPF) when `route53` is on; otherwise copy them from the SES console. Who uses it, linked
 * to it (SendEmail/SendRawEmail): the sender (invitations, reminders, early warnings, summaries).
 */
export const email = new sst.aws.Email('Email', {
  sender: mail.identity,
  ...(isDomain
    ? {
        dns: settings.route53 ? sst.aws.dns() : false,
        dmarc: mail.dmarc,
        ...(mail.mailFromDomain ? { mailFrom: { domain: mail.mailFromDomain } } : {}),
      }
    : {}),
  // `send`: SES's own record of each email it took, tagged with its invitation; the recovery sweep
  // reads it to settle a send whose worker died mid-way.
  events: [{ name: 'SendsBouncesAndComplaints', types: ['send', 'bounce', 'complaint'], topic: sesEvents.arn }],
});

/**
 * Events the function below still failed on after Lambda's two retries (SNS invokes it
 * asynchronously): kept 14 days, so a bounce or complaint is never lost silently. Inspect them
 * and send their `Message` again once the cause is fixed.
 */
export const sesEventDeadLetters = new sst.aws.Queue('SesEventDeadLetters', {
  transform: {
    queue: (args) => {
      args.messageRetentionSeconds = 14 * 86_400;
    },
  },
});

/**
 * Acts on each event: a permanent bounce or a complaint suppresses the address for every agency,
 * and a bounce marks the invitation bounced. Linked to the table only (it sends nothing); may
 * send to its dead-letter queue.
 */
sesEvents.subscribe('SesEventsHandler', {
  handler: `${handlers}/ses-events.handler`,
  link: [table],
  environment: commonEnvironment,
  timeout: '30 seconds',
  permissions: [{ actions: ['sqs:SendMessage'], resources: [sesEventDeadLetters.arn] }],
  transform: {
    function: (args) => {
      args.deadLetterConfig = { targetArn: sesEventDeadLetters.arn };
    },
  },
});
