import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { guardedAgent, publicOnlyPolicy } from '../../../src/core/address-guard.ts';
import { imageBytes } from '../../../src/platforms/_kit/image-bytes.ts';
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
