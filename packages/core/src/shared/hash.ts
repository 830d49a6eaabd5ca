import { createHash } from 'node:crypto';

/** The SHA-256 (hex) of several strings, kept apart so that no two lists of parts hash alike. */
export const fingerprint = (...parts: string[]): string => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\u0000');
  return hash.digest('hex');
};
