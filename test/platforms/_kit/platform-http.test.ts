import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ImgateError } from '../../../src/core/errors.ts';
import { networkFailureOutcome, platformRequest, redactSecrets, retryAfterSeconds, sendOutcomeOf, withUnknownOutcome } from '../../../src/platforms/_kit/platform-http.ts';
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

  it('maps 502 and 503 to UNREACHABLE, not sent, and 504 (a proxy that gave up waiting) to UNREACHABLE of unknown outcome', async () => {
    for (const [status, outcome] of [[502, 'not-sent'], [503, 'not-sent'], [504, 'unknown']] as const) {
      reply(status, 'down');
      await assert.rejects(
        platformRequest({ url: `${base}/x` }),
        failsWith('IMG_ERR_PLATFORM_UNREACHABLE', (e) => assert.deepEqual(e.details, { httpStatus: status, outcome })),
      );
    }
  });

  it('maps a timeout to UNREACHABLE of unknown outcome: the platform may be handling the request', async () => {
    respond = () => {}; // never answers
    await assert.rejects(
      platformRequest({ url: `${base}/slow?key=SECRET`, timeoutMs: 100 }),
      failsWith('IMG_ERR_PLATFORM_UNREACHABLE', (e) => {
        assert.doesNotMatch(e.message, /SECRET/);
        assert.deepEqual(e.details, { reason: 'timed out', outcome: 'unknown' });
      }),
    );
  });

  it('maps a connection closed after the request was read to UNREACHABLE of unknown outcome', async () => {
    respond = (res) => res.socket?.destroy();
    await assert.rejects(
      platformRequest({ url: `${base}/x`, body: { text: 'hi' } }),
      failsWith('IMG_ERR_PLATFORM_UNREACHABLE', (e) => assert.equal(e.details?.outcome, 'unknown')),
    );
  });

  it('maps a refused connection to UNREACHABLE, not sent', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await assert.rejects(
      platformRequest({ url: `http://127.0.0.1:${port}/x`, body: {} }),
      failsWith('IMG_ERR_PLATFORM_UNREACHABLE', (e) => assert.deepEqual(e.details, { reason: 'ECONNREFUSED', outcome: 'not-sent' })),
    );
  });

  it('takes any failed GET as not sent: reading makes no message', async () => {
    respond = () => {};
    await assert.rejects(
      platformRequest({ method: 'GET', url: `${base}/token`, timeoutMs: 100 }),
      failsWith('IMG_ERR_PLATFORM_UNREACHABLE', (e) => assert.equal(e.details?.outcome, 'not-sent')),
    );
    reply(504, 'gateway timeout');
    await assert.rejects(
      platformRequest({ method: 'GET', url: `${base}/token` }),
      failsWith('IMG_ERR_PLATFORM_UNREACHABLE', (e) => assert.equal(e.details?.outcome, 'not-sent')),
    );
  });

  it('takes a failed repeatable POST (a token fetch, an upload) as not sent, however far it got', async () => {
    respond = (res) => res.socket?.destroy();
    await assert.rejects(
      platformRequest({ url: `${base}/token`, body: { appId: 'a' }, repeatable: true }),
      failsWith('IMG_ERR_PLATFORM_UNREACHABLE', (e) => assert.equal(e.details?.outcome, 'not-sent')),
    );
    reply(504, 'gateway timeout');
    await assert.rejects(
      platformRequest({ url: `${base}/upload`, body: {}, repeatable: true }),
      failsWith('IMG_ERR_PLATFORM_UNREACHABLE', (e) => assert.equal(e.details?.outcome, 'not-sent')),
    );
  });

  it('maps 429 to RATE_LIMITED, taking retry_after from a JSON body when there is no header', async () => {
    reply(429, '{"message":"You are being rate limited.","retry_after":2.5}');
    await assert.rejects(platformRequest({ url: `${base}/x` }), failsWith('IMG_ERR_PLATFORM_RATE_LIMITED', (e) => assert.equal(e.retryAfter, 3)));
  });
});

describe('send outcomes', () => {
  it('reads connect-phase codes, also on the cause, as not sent and anything else as unknown', () => {
    const coded = (code: string) => Object.assign(new Error(code), { code });
    assert.equal(networkFailureOutcome(coded('ENOTFOUND')), 'not-sent');
    assert.equal(networkFailureOutcome(coded('UND_ERR_CONNECT_TIMEOUT')), 'not-sent');
    assert.equal(networkFailureOutcome(new Error('fetch failed', { cause: coded('EAI_AGAIN') })), 'not-sent');
    assert.equal(networkFailureOutcome(coded('ECONNRESET')), 'unknown');
    assert.equal(networkFailureOutcome(coded('UND_ERR_SOCKET')), 'unknown');
    assert.equal(networkFailureOutcome(new DOMException('aborted', 'AbortError')), 'unknown');
  });

  it('marks an error as of unknown outcome, keeping its code, message and details', () => {
    const refused = new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: 'part 2 refused', details: { httpStatus: 400 } });
    assert.equal(sendOutcomeOf(refused), null);
    const marked = withUnknownOutcome(refused, { partsSent: 1 });
    assert.ok(marked instanceof ImgateError);
    assert.equal(marked.code, 'IMG_ERR_PLATFORM_REJECTED');
    assert.equal(marked.message, 'part 2 refused');
    assert.deepEqual(marked.details, { httpStatus: 400, partsSent: 1, outcome: 'unknown' });
    assert.equal(sendOutcomeOf(marked), 'unknown');
    const plain = new Error('not ours');
    assert.equal(withUnknownOutcome(plain), plain);
  });
});

describe('retryAfterSeconds', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads delta-seconds and HTTP dates from the header', () => {
    assert.equal(retryAfterSeconds('12', '', now), 12);
    assert.equal(retryAfterSeconds('Thu, 01 Jan 2026 00:00:20 GMT', '', now), 20);
  });

  it("reads retry_after from a JSON body, at the top (Discord) or in Telegram's ResponseParameters", () => {
    assert.equal(retryAfterSeconds(undefined, '{"retry_after": 2.5}', now), 3);
    assert.equal(retryAfterSeconds(undefined, '{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}', now), 7);
  });

  it('defaults to 1 second', () => {
    assert.equal(retryAfterSeconds(undefined, 'not json', now), 1);
  });
});

describe('redactSecrets', () => {
  it('hunts secrets of 8 characters or more, and leaves text alone for shorter ones rather than garbling it', () => {
    const text = 'POST https://open.feishu.cn/open-api/auth/v3/tenant_access_token failed: app secret abcdefgh12 refused';
    assert.equal(redactSecrets(text, ['abcdefgh12']), 'POST https://open.feishu.cn/open-api/auth/v3/tenant_access_token failed: app secret [redacted] refused');
    assert.equal(redactSecrets(text, ['s', 'a', '']), text);
  });
});
