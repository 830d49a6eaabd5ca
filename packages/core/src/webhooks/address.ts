import { BlockList, isIP } from 'node:net';
import { ValidationError } from '../shared/errors';

/**
 * Where a webhook may never go: addresses inside the host or its network (private, loopback,
 * link-local with the cloud metadata service at 169.254.169.254 and fd00:ec2::254, carrier-grade
 * NAT, "this network", multicast and reserved, NAT64 which can wrap any of them). Checked on the
 * URL at creation and on every resolved address at delivery (`ssrf.ts`): an https URL whose name
 * later resolves inside is refused then.
 */
const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  // Teredo tunnels to whatever IPv4 address its relay is told (6to4 is judged by the address it carries).
  ['2001::', 32],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

const LOOPBACK_V4 = new BlockList();
LOOPBACK_V4.addSubnet('127.0.0.0', 8, 'ipv4');

/**
 * The IPv4 address an IPv6 one carries (`::ffff:a.b.c.d` or its hex form `::ffff:7f00:1`, the
 * deprecated compatible `::a.b.c.d`, and 6to4's `2002:AABB:CCDD::/48`), so a mapped private
 * address is judged as the private one.
 */
function embeddedV4(address: string): string | null {
  const lower = address.toLowerCase();
  const sixToFour = /^2002:([0-9a-f]{1,4}):([0-9a-f]{1,4})(?::|$)/.exec(lower) ?? /^2002:([0-9a-f]{1,4})::/.exec(lower);
  if (sixToFour) return v4Of(sixToFour[1]!, sixToFour[2] ?? '0');
  const dotted = /^(?:::ffff:|::ffff:0:|::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1]!;
  const hex = /^(?:::ffff:|::ffff:0:|::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  return hex ? v4Of(hex[1]!, hex[2]!) : null;
}

/** `a.b.c.d` from two hex groups `aabb:ccdd`. */
function v4Of(high: string, low: string): string {
  const hi = parseInt(high, 16);
  const lo = parseInt(low, 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** Whether an IP address is one a webhook must not reach (anything not an IP address counts as one). */
export function isForbiddenAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return blocked.check(bare, 'ipv4');
  if (family !== 6) return true;
  const v4 = embeddedV4(bare);
  return v4 !== null ? blocked.check(v4, 'ipv4') : blocked.check(bare, 'ipv6');
}

/** A loopback address (127/8, ::1, or one mapped): what the local allowance lets through. */
export function isLoopbackAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  if (isIP(bare) === 4) return LOOPBACK_V4.check(bare, 'ipv4');
  if (bare === '::1') return true;
  const v4 = isIP(bare) === 6 ? embeddedV4(bare) : null;
  return v4 !== null && LOOPBACK_V4.check(v4, 'ipv4');
}

/** At most 2,000 characters, as browsers and most servers keep. */
export const MAX_URL_LENGTH = 2000;

/**
 * Checks an endpoint URL when it is set: https, no user name or password (the secret signs
 * instead), a host that is a name or a public address. `allowLoopback` (the local runner and
 * tests) also lets `http://127.0.0.1:<port>` and `http://localhost:<port>` through. The name is
 * resolved again at each delivery (`ssrf.ts`): this check alone cannot see where a name points.
 * Returns the URL as the WHATWG parser normalises it.
 */
export function checkWebhookUrl(raw: string, { allowLoopback }: { allowLoopback: boolean }, field = 'url'): string {
  const refuse = (message: string) => ValidationError.field(field, message);
  if (raw.length > MAX_URL_LENGTH) throw refuse(`must be at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse('must be an absolute https URL');
  }
  if (url.username || url.password) throw refuse('must not carry a user name or password');
  // `localhost.` is localhost: a trailing dot only roots the name.
  const host = url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '');
  const loopback = host === 'localhost' || isLoopbackAddress(host);
  if (loopback && allowLoopback) {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refuse('must be an https URL');
    return url.href;
  }
  if (url.protocol !== 'https:') throw refuse('must be an https URL');
  if (host === 'localhost' || host.endsWith('.localhost')) throw refuse('must not point at this host (localhost)');
  if (isIP(host) && isForbiddenAddress(host)) throw refuse('must not point at a private, loopback, link-local or metadata address');
  if (!isIP(host) && !host.includes('.')) throw refuse('must name a public host (a dotted name or a public address)');
  return url.href;
}
