import ipaddr from 'ipaddr.js';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Normalizes IPv4-mapped IPv6 (`::ffff:1.2.3.4`, as dual-stack sockets report IPv4) to IPv4. */
export function parseAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const parsed = ipaddr.parse(address);
  return parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()
    ? (parsed as ipaddr.IPv6).toIPv4Address()
    : parsed;
}

function parseRange(entry: string): Range {
  if (entry.includes('/')) {
    const [address, prefix] = ipaddr.parseCIDR(entry);
    // Addresses are matched as IPv4 once unmapped (parseAddress), so a range inside ::ffff:0:0/96 is
    // matched as the IPv4 range it maps (::ffff:10.0.0.0/104 is 10.0.0.0/8; RFC 4291 section 2.5.5.2).
    if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() && prefix >= 96) {
      return [(address as ipaddr.IPv6).toIPv4Address(), prefix - 96];
    }
    return [address, prefix];
  }
  const address = parseAddress(entry);
  return [address, address.kind() === 'ipv4' ? 32 : 128];
}

/** `allowIps` of a channel: addresses and CIDRs, IPv4 and IPv6. Throws on an entry that is neither. */
export function compileAllowList(entries: string[]): (address: string) => boolean {
  const ranges = entries.map(parseRange);
  return (address) => {
    let parsed: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      parsed = parseAddress(address);
    } catch {
      return false;
    }
    return ranges.some(([range, prefix]) => parsed.kind() === range.kind() && parsed.match([range, prefix] as never));
  };
}

export function isValidAllowEntry(entry: string): boolean {
  try {
    parseRange(entry);
    return true;
  } catch {
    return false;
  }
}
