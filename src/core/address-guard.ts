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

function refusal(address: string, policy: AddressPolicy): RefusedAddressError | null {
  // 0.0.0.0/8 and :: are never a destination: Linux connects them to the local host, whatever the policy.
  const reason = parseAddress(address).range() === 'unspecified' || address.startsWith('0.') ? 'not a destination (it reaches this host)' : policy(address);
  return reason === null ? null : new RefusedAddressError(`connection to ${address} refused: ${reason}`);
}

/** Every address `hostname` resolves to (all of them, so that none slips through unchecked), or the refusal of the first one `policy` refuses. */
function resolveAllowed(hostname: string, policy: AddressPolicy, callback: (error: Error | null, addresses: LookupAddress[]) => void): void {
  const literal = hostname.replace(/^\[|\]$/g, '');
  if (isIP(literal)) {
    const refused = refusal(literal, policy);
    return callback(refused, refused ? [] : [{ address: literal, family: isIP(literal) }]);
  }
  const all: LookupAllOptions = { all: true };
  dnsLookup(hostname, all, (error: Error | null, addresses: LookupAddress[]) => {
    if (error) return callback(error, []);
    const refused = addresses.map((entry) => refusal(entry.address, policy)).find((found) => found !== null);
    callback(refused ?? null, refused ? [] : addresses);
  });
}

/**
 * An undici dispatcher that connects only to addresses `policy` allows, checked on the addresses a
 * connection is actually made to: every address the name resolves to *for this connection* (the
 * resolver is the socket's own `lookup`), or the literal address in the URL. A check made before the
 * request instead would let a name that resolves elsewhere a moment later (DNS rebinding) through.
 */
export class GuardedAgent extends Agent {
  private readonly policy: AddressPolicy;

  constructor(policy: AddressPolicy) {
    const lookup = (hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void): void => {
      resolveAllowed(hostname, policy, (error, addresses) => {
        if (error) return callback(error);
        if (options.all) return callback(null, addresses);
        const [first] = addresses;
        callback(null, first!.address, first!.family);
      });
    };
    const connect = buildConnector({ lookup: lookup as never });
    super({
      connect: (options, callback) => {
        // net.connect resolves no literal address: that one is checked here.
        const host = options.hostname.replace(/^\[|\]$/g, '');
        const refused = isIP(host) ? refusal(host, policy) : null;
        if (refused) return callback(refused, null);
        connect(options, callback);
      },
    });
    this.policy = policy;
  }

  /**
   * For a URL that someone else will fetch (a pad server given a send's `image.url`): rejects with a
   * RefusedAddressError unless every address `hostname` resolves to *now* is allowed. Weaker than a
   * connection through this agent, which checks the addresses it actually connects to.
   */
  checkHost(hostname: string): Promise<void> {
    return new Promise((resolve, reject) => resolveAllowed(hostname, this.policy, (error) => (error ? reject(error) : resolve())));
  }
}

/** A GuardedAgent for `policy`. */
export function guardedAgent(policy: AddressPolicy): GuardedAgent {
  return new GuardedAgent(policy);
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
