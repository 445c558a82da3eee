import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ImgateError } from '../../../src/core/errors.ts';
import { wsEndpointHttp } from '../../../src/platforms/feishu/ws-endpoint.ts';
import { WS_ENDPOINT_PATH } from '../../helpers/fake-feishu-ws.ts';
import { FEISHU_KEYS, FakeFeishuApi, jsonOf } from './helpers.ts';

const { appSecret } = FEISHU_KEYS;

describe('the long connection endpoint request, made for the SDK', () => {
  const api = new FakeFeishuApi();
  before(() => api.start());
  after(() => api.stop());

  it('hands the SDK Feishu\'s answer and reports success, whichever of its verbs the SDK uses', async () => {
    const answer = { code: 0, msg: 'ok', data: { URL: 'wss://example/ws?ticket=t', ClientConfig: { PingInterval: 120 } } };
    api.route(WS_ENDPOINT_PATH, () => ({ status: 200, body: answer }));
    const outcomes: (ImgateError | null)[] = [];
    const http = wsEndpointHttp(appSecret, (error) => void outcomes.push(error));
    const url = `${api.url}${WS_ENDPOINT_PATH}`;
    assert.deepEqual(await http.request({ method: 'post', url, data: { AppID: 'cli_x', AppSecret: appSecret }, headers: { locale: 'zh' } }), answer);
    assert.deepEqual(await http.post(url, { AppID: 'cli_x' }), answer);
    const [first] = api.requestsTo(WS_ENDPOINT_PATH);
    assert.deepEqual(jsonOf(first!), { AppID: 'cli_x', AppSecret: appSecret });
    assert.equal(first!.headers.locale, 'zh');
    assert.deepEqual(outcomes, [null, null]);
  });

  it('reports a refusal with Feishu\'s code, explained, and hands the SDK an answer it can read', async () => {
    api.route(WS_ENDPOINT_PATH, () => ({ status: 200, body: { code: 403, msg: 'forbidden' } }));
    const outcomes: (ImgateError | null)[] = [];
    const answer = await wsEndpointHttp(appSecret, (error) => void outcomes.push(error)).post(`${api.url}${WS_ENDPOINT_PATH}`, {});
    assert.deepEqual(answer, { code: 403, msg: 'forbidden', data: {} });
    assert.equal(outcomes[0]?.code, 'IMG_ERR_PLATFORM_REJECTED');
    assert.match(outcomes[0]!.message, /code 403: forbidden \(the app may not use the long connection/);
    assert.deepEqual(outcomes[0]!.details, { code: 403, msg: 'forbidden', refused: true }, 'a refusal the operator must mend');
  });

  it('reports an unreachable host and throws, the App Secret blanked', async () => {
    const outcomes: (ImgateError | null)[] = [];
    const http = wsEndpointHttp(appSecret, (error) => void outcomes.push(error));
    await assert.rejects(http.post(`http://127.0.0.1:9/${appSecret}`, {}), ImgateError);
    assert.equal(outcomes[0]?.code, 'IMG_ERR_PLATFORM_UNREACHABLE');
    assert.ok(!outcomes[0]!.message.includes(appSecret));
  });
});
