/**
 * The key that signs survey and unsubscribe links (HMAC-SHA256), at least 32 characters. Set once
 * per stage, before the first deploy:
 *   npx sst secret set LinkSecret "$(openssl rand -base64 48)" --stage production
 * Changing it invalidates every link already emailed.
 * Who reads it: the API (the pages check the tokens) and the sender (it signs the links it emails),
 * nothing else.
 */
export const linkSecret = new sst.Secret('LinkSecret');
