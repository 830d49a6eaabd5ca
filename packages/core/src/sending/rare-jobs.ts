/**
 * The job kinds the sender runs rarely (a round's close, early warnings, summaries, webhooks,
 * sign-in and sign-up emails), in one module `dispatch.ts` loads on the first of them: one chunk,
 * so a cold sender's INIT loads few files (esbuild makes a shared chunk per set of importers).
 */
export { closeRoundJob } from '../jobs/expiry';
export { deliverEarlyWarning } from '../warnings/early-warning';
export { deliverAgencySummary, deliverProSummary, queueSummaries } from '../summary/job';
export { attemptDelivery, STANDARD_RETRY_SECONDS } from '../webhooks/delivery';
export { deliverSignIn } from '../access/sign-in-mail';
export { deliverSignUp } from '../access/signup';
