import { createHash } from 'node:crypto';
import * as v from 'valibot';
import { EmailSchema } from '../shared/schemas';

/** Addresses are compared lower-cased and trimmed; the stored form keeps what was given, trimmed. */
export const normalizeAddress = (email: string) => email.trim().toLowerCase();

export const addressHash = (email: string) => createHash('sha256').update(normalizeAddress(email)).digest('hex');

export const isValidAddress = (email: string) => v.safeParse(EmailSchema, email).success;
