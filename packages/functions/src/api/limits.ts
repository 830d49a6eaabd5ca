/** Largest JSON body the API accepts, but for a survey round's recipient list. */
export const MAX_BODY_BYTES = 64 * 1024;
/** 2,000 recipients with names and outlets fit well within this. */
export const MAX_ROUND_BODY_BYTES = 1024 * 1024;
