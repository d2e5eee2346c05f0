import { isIPv6 } from 'node:net';

const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * Whose counter an anonymous request counts in. IPv4 clients by address; IPv6 clients by their
 * /64, the smallest block a site is given: one host can rotate through 2^64 addresses of its own,
 * so keying by address would give it a fresh limit per request. IPv4-mapped IPv6 is IPv4.
 */
export function clientKey(ip: string): string {
  if (!ip.includes(':')) return ip;
  const mapped = MAPPED_IPV4.exec(ip);
  if (mapped) return mapped[1];
  const address = ip.split('%')[0];
  if (!isIPv6(address)) return ip;
  return `${firstGroups(address, 4).join(':')}::/64`;
}

/** The first `n` 16-bit groups of an IPv6 address, expanded and without leading zeros. */
function firstGroups(address: string, n: number): string[] {
  const gap = address.indexOf('::');
  const head = (gap < 0 ? address : address.slice(0, gap)).split(':').filter((g) => g !== '');
  const groups = head.slice(0, n);
  if (groups.length < n && gap >= 0) {
    const tail = address.slice(gap + 2).split(':').filter((g) => g !== '');
    // A trailing dotted IPv4 part fills two groups.
    const tailGroups = tail.reduce((count, g) => count + (g.includes('.') ? 2 : 1), 0);
    const zeros = 8 - head.length - tailGroups;
    for (let i = 0; i < zeros && groups.length < n; i++) groups.push('0');
    for (const g of tail) if (groups.length < n) groups.push(g);
  }
  return groups.map((g) => parseInt(g, 16).toString(16));
}
