import { isIPv6 } from 'node:net';
import type { Context } from 'hono';
import { fingerprint } from '@rapport/core/shared/hash';

/**
 * The address a request came from as the platform saw it, never a header a client can set:
 * API Gateway's `requestContext.http.sourceIp` on Lambda (the HTTP API and Function URLs set it
 * from the connection, whatever X-Forwarded-For says), the socket's peer under @hono/node-server.
 * A request served any other way (`app.request` in tests) has none and counts as `unknown`: one
 * bucket shared by all of them, so a missing address limits more, never less.
 */
export function clientAddress(c: Context): string {
  const env = c.env as { requestContext?: { http?: { sourceIp?: string } }; incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.requestContext?.http?.sourceIp ?? env?.incoming?.socket?.remoteAddress ?? 'unknown';
}

/**
 * What an address is limited as: an IPv4 address (also written IPv4-mapped, as Node gives it), or
 * an IPv6 address's /64, since one client holds a whole /64 and could walk through it.
 */
export function addressBucket(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail] = address.split('::');
  const groups = head ? head.split(':') : [];
  if (tail !== undefined) {
    const rest = tail ? tail.split(':') : [];
    groups.push(...Array<string>(Math.max(0, 8 - groups.length - rest.length)).fill('0'), ...rest);
  }
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}

/**
 * The id an address's rate windows are keyed by: its bucket's SHA-256, so no address stands in the
 * table in clear (an IPv4 hash can be undone by trying them all; the items expire within the hour).
 */
export const addressId = (address: string): string => fingerprint('address', addressBucket(address)).slice(0, 32);
