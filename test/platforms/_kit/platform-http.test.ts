import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { platformRequest, retryAfterSeconds } from '../../../src/platforms/_kit/platform-http.ts';
import { failsWith } from '../../helpers/errors.ts';

let server: Server;
let base: string;
let respond: (res: ServerResponse, body: string) => void = (res) => res.end();

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => respond(res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

function reply(status: number, body: string, headers: Record<string, string> = {}) {
  respond = (res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body);
  };
}

describe('platformRequest', () => {
  it('sends a JSON body and returns the parsed answer, long integers exact', async () => {
    respond = (res, body) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"echo":${body},"id":9223372036854775707}`);
    };
    const answer = await platformRequest({ url: `${base}/x`, body: { a: 1 } });
    assert.deepEqual(answer, { echo: { a: 1 }, id: '9223372036854775707' });
  });

  it('returns null for an empty 2xx body', async () => {
    reply(204, '');
    assert.equal(await platformRequest({ url: `${base}/x`, method: 'DELETE' }), null);
  });

  it('maps other non-2xx to REJECTED with the status and a 500-character excerpt, redacting the query and secrets', async () => {
    reply(400, `{"error":"bad key tok-SECRET"}${'x'.repeat(1000)}`);
    await assert.rejects(
      platformRequest({ url: `${base}/bottok-SECRET/send?key=query-SECRET`, redact: ['tok-SECRET'] }),
      failsWith('IMG_ERR_PLATFORM_REJECTED', (e) => {
        assert.equal(e.details?.httpStatus, 400);
        assert.equal(String(e.details?.body).length, 500 - 'tok-SECRET'.length + '[redacted]'.length);
        assert.doesNotMatch(JSON.stringify({ m: e.message, d: e.details }), /SECRET/);
      }),
    );
  });

  it('maps 502, 503 and 504 to UNREACHABLE', async () => {
    for (const status of [502, 503, 504]) {
      reply(status, 'down');
      await assert.rejects(platformRequest({ url: `${base}/x` }), failsWith('IMG_ERR_PLATFORM_UNREACHABLE'));
    }
  });

  it('maps a timeout to UNREACHABLE', async () => {
    respond = () => {}; // never answers
    await assert.rejects(
      platformRequest({ url: `${base}/slow?key=SECRET`, timeoutMs: 100 }),
      failsWith('IMG_ERR_PLATFORM_UNREACHABLE', (e) => assert.doesNotMatch(e.message, /SECRET/)),
    );
  });

  it('maps 429 to RATE_LIMITED, taking retry_after from a JSON body when there is no header', async () => {
    reply(429, '{"message":"You are being rate limited.","retry_after":2.5}');
    await assert.rejects(platformRequest({ url: `${base}/x` }), failsWith('IMG_ERR_PLATFORM_RATE_LIMITED', (e) => assert.equal(e.retryAfter, 3)));
  });
});

describe('retryAfterSeconds', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads delta-seconds and HTTP dates from the header', () => {
    assert.equal(retryAfterSeconds('12', '', now), 12);
    assert.equal(retryAfterSeconds('Thu, 01 Jan 2026 00:00:20 GMT', '', now), 20);
  });

  it('defaults to 1 second', () => {
    assert.equal(retryAfterSeconds(undefined, 'not json', now), 1);
  });
});
