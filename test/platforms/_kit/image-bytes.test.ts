import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { guardedAgent, publicOnlyPolicy } from '../../../src/core/address-guard.ts';
import { checkPublicImageUrl, imageBytes } from '../../../src/platforms/_kit/image-bytes.ts';
import { failsWith } from '../../helpers/errors.ts';
import { FakeHttpServer } from '../../helpers/fake-http.ts';

describe('imageBytes', () => {
  const internal = new FakeHttpServer(() => ({ status: 200, body: 'secret internal bytes' }));
  const downloads = guardedAgent(publicOnlyPolicy([]));
  before(() => internal.start());
  after(async () => {
    await internal.stop();
    await downloads.destroy();
  });

  it('decodes base64 without any request', async () => {
    assert.deepEqual(await imageBytes({ base64: Buffer.from('png-bytes').toString('base64') }, downloads), Buffer.from('png-bytes'));
  });

  it("refuses URLs on the gateway's own network, by address or by the address a name resolves to, before any request", async () => {
    const port = new URL(internal.url).port;
    for (const url of [
      `${internal.url}/image.png`,
      `http://localhost:${port}/image.png`,
      'http://10.1.2.3/image.png',
      'http://192.168.0.10/image.png',
      'http://169.254.169.254/latest/meta-data/',
      `http://[::1]:${port}/image.png`,
    ]) {
      await assert.rejects(imageBytes({ url }, downloads), (error: Error & { code?: string; message: string }) => {
        assert.equal(error.code, 'IMG_ERR_VALIDATION', url);
        assert.match(error.message, /public host/);
        return true;
      });
    }
    assert.equal(internal.requests.length, 0, 'nothing was fetched');
  });

  it('refuses other schemes', async () => {
    await assert.rejects(imageBytes({ url: 'file:///etc/passwd' }, downloads), { code: 'IMG_ERR_VALIDATION' });
  });
});

describe('checkPublicImageUrl', () => {
  const downloads = guardedAgent(publicOnlyPolicy(['93.184.0.0/16']));
  after(() => downloads.destroy());

  it('passes a public address, refuses one of delivery.denyNetworks, an internal one and a name that does not resolve', async () => {
    assert.equal((await checkPublicImageUrl('https://1.1.1.1/a.png', downloads)).hostname, '1.1.1.1');
    for (const url of ['https://93.184.215.14/a.png', 'http://127.0.0.1/a.png', 'http://localhost/a.png']) {
      await assert.rejects(checkPublicImageUrl(url, downloads), failsWith('IMG_ERR_VALIDATION', (e) => assert.match(e.message, /public host/)));
    }
    await assert.rejects(
      checkPublicImageUrl('http://no-such-host.invalid/a.png', downloads),
      failsWith('IMG_ERR_VALIDATION', (e) => assert.match(e.message, /does not resolve/)),
    );
  });
});
