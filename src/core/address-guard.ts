import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { compileAllowList, parseAddress } from './ip-allow-list.ts';

/** Why a connection to `address` is refused (it ends up in the error), or null when it may be made. */
export type AddressPolicy = (address: string) => string | null;

/** A connection the policy refused: nothing was sent. */
export class RefusedAddressError extends Error {
  readonly code = 'IMG_ADDRESS_REFUSED';
}

/**
 * An undici dispatcher that connects only to addresses `policy` allows, checked on the addresses a
 * connection is actually made to: every address the name resolves to *for this connection* (the
 * resolver is the socket's own `lookup`), or the literal address in the URL. A check made before the
 * request instead would let a name that resolves elsewhere a moment later (DNS rebinding) through.
 */
export function guardedAgent(policy: AddressPolicy): Agent {
  const refusal = (address: string): RefusedAddressError | null => {
    // 0.0.0.0/8 and :: are never a destination: Linux connects them to the local host, whatever the policy.
    const reason = parseAddress(address).range() === 'unspecified' || address.startsWith('0.') ? 'not a destination (it reaches this host)' : policy(address);
    return reason === null ? null : new RefusedAddressError(`connection to ${address} refused: ${reason}`);
  };
  // Resolves every address (even when net asks for one) so that none of them slips through unchecked.
  const lookup = (hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void): void => {
    const all: LookupAllOptions = { ...options, all: true };
    dnsLookup(hostname, all, (error: Error | null, addresses: LookupAddress[]) => {
      if (error) return callback(error);
      const refused = addresses.map((entry) => refusal(entry.address)).find((found) => found !== null);
      if (refused) return callback(refused);
      if (options.all) return callback(null, addresses);
      const [first] = addresses;
      callback(null, first!.address, first!.family);
    });
  };
  const connect = buildConnector({ lookup: lookup as never });
  return new Agent({
    connect: (options, callback) => {
      // net.connect resolves no literal address: that one is checked here.
      const host = options.hostname.replace(/^\[|\]$/g, '');
      const refused = isIP(host) ? refusal(host) : null;
      if (refused) return callback(refused, null);
      connect(options, callback);
    },
  });
}

/** The policy of `delivery.denyNetworks`: addresses in one of these CIDRs are refused. */
export function denyNetworksPolicy(networks: string[]): AddressPolicy {
  const denied = compileAllowList(networks);
  return (address) => (denied(address) ? 'delivery.denyNetworks includes it' : null);
}

/**
 * For URLs whoever holds an API key names (a send's `image.url`): only public unicast addresses, and
 * none that `delivery.denyNetworks` refuses — never the gateway's own network (loopback, private
 * ranges, link-local cloud metadata).
 */
export function publicOnlyPolicy(networks: string[]): AddressPolicy {
  const denied = denyNetworksPolicy(networks);
  return (address) => (parseAddress(address).range() !== 'unicast' ? 'not a public address' : denied(address));
}
