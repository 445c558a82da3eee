import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { denyNetworksPolicy, guardedAgent, publicOnlyPolicy, RefusedAddressError } from '../../src/core/address-guard.ts';
import { FakeHttpServer } from '../helpers/fake-http.ts';

describe('guardedAgent', () => {
  const server = new FakeHttpServer(() => ({ status: 200, body: 'reached' }));
  let port = '';
  before(async () => {
    await server.start();
    port = new URL(server.url).port;
  });
  after(() => server.stop());

  async function get(url: string, agent: ReturnType<typeof guardedAgent>): Promise<number | Error> {
    try {
      const answer = await request(url, { dispatcher: agent });
      await answer.body.dump();
      return answer.statusCode;
    } catch (error) {
      return error as Error;
    }
  }

  it('refuses a denied address given literally, and the address a name resolves to, without sending anything', async () => {
    const seen: string[] = [];
    const agent = guardedAgent((address) => {
      seen.push(address);
      return denyNetworksPolicy(['127.0.0.0/8', '::1/128'])(address);
    });
    for (const url of [`http://127.0.0.1:${port}/a`, `http://localhost:${port}/b`, `http://[::1]:${port}/c`]) {
      const outcome = await get(url, agent);
      assert.ok(outcome instanceof RefusedAddressError, `${url}: ${String(outcome)}`);
      assert.match(outcome.message, /^connection to (127\.0\.0\.1|::1) refused: delivery\.denyNetworks includes it$/);
    }
    // `localhost` was checked on what it resolved to, not on its name.
    assert.ok(seen.every((address) => address === '127.0.0.1' || address === '::1'), seen.join());
    assert.equal(server.requests.length, 0);
    await agent.destroy();
  });

  it('never connects to the unspecified addresses, which reach this host, whatever the policy', async () => {
    const agent = guardedAgent(() => null);
    for (const url of [`http://0.0.0.0:${port}/x`, `http://[::]:${port}/y`]) {
      const outcome = await get(url, agent);
      assert.ok(outcome instanceof RefusedAddressError, `${url}: ${String(outcome)}`);
    }
    assert.equal(server.requests.length, 0);
    await agent.destroy();
  });

  it('matches IPv4-mapped IPv6 addresses and CIDRs both ways: ::ffff:10.0.0.0/104 is 10.0.0.0/8', () => {
    for (const networks of [['10.0.0.0/8'], ['::ffff:10.0.0.0/104'], ['::ffff:a00:0/104']]) {
      const policy = denyNetworksPolicy(networks);
      for (const address of ['10.1.2.3', '::ffff:10.1.2.3', '::ffff:a01:203']) {
        assert.equal(policy(address), 'delivery.denyNetworks includes it', `${networks[0]} should refuse ${address}`);
      }
      assert.equal(policy('11.1.2.3'), null, `${networks[0]} lets 11.1.2.3 through`);
      assert.equal(policy('::ffff:11.1.2.3'), null);
    }
    // Exactly the mapped block is every IPv4 address; a plain IPv6 range is no IPv4 address.
    assert.equal(denyNetworksPolicy(['::ffff:0:0/96'])('93.184.215.14'), 'delivery.denyNetworks includes it');
    assert.equal(denyNetworksPolicy(['2001:db8::/32'])('10.1.2.3'), null);
  });

  it('refuses a loopback connection made as ::ffff:127.0.0.1 or 127.0.0.1 under either spelling of the CIDR', async () => {
    for (const networks of [['127.0.0.0/8'], ['::ffff:127.0.0.0/104']]) {
      const agent = guardedAgent(denyNetworksPolicy(networks));
      for (const url of [`http://[::ffff:127.0.0.1]:${port}/m`, `http://127.0.0.1:${port}/v4`, `http://localhost:${port}/n`]) {
        const outcome = await get(url, agent);
        assert.ok(outcome instanceof RefusedAddressError, `${networks[0]}, ${url}: ${String(outcome)}`);
      }
      await agent.destroy();
    }
    assert.equal(server.requests.length, 0);
  });

  it('connects where the policy allows, by address and by name', async () => {
    const agent = guardedAgent(denyNetworksPolicy(['10.0.0.0/8', '169.254.0.0/16']));
    assert.equal(await get(`http://127.0.0.1:${port}/a`, agent), 200);
    assert.equal(await get(`http://localhost:${port}/b`, agent), 200);
    assert.deepEqual(
      server.requests.map((received) => received.url),
      ['/a', '/b'],
    );
    await agent.destroy();
  });

  it('with publicOnlyPolicy refuses loopback, private, link-local and unspecified addresses whatever denyNetworks says', async () => {
    const policy = publicOnlyPolicy([]);
    for (const address of ['127.0.0.1', '10.1.2.3', '192.168.0.10', '169.254.169.254', '::1', 'fe80::1', '0.0.0.0', '::ffff:127.0.0.1']) {
      assert.equal(policy(address), 'not a public address', address);
    }
    assert.equal(policy('93.184.215.14'), null);
    assert.equal(publicOnlyPolicy(['93.184.0.0/16'])('93.184.215.14'), 'delivery.denyNetworks includes it');
  });
});
