import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { InboundRequest } from '../../src/platforms/_kit/adapter.ts';
import { signedQuery, wecomCallbackKeys } from '../../src/platforms/_kit/wecom-callback.ts';
import { cdata, encryptedWecomSample, wecomTimestamp } from '../../src/platforms/_kit/wecom-sample.ts';
import { handleWecomKfCallback } from '../../src/platforms/wecom-kf/callback.ts';
import { buildWecomKfSample } from '../../src/platforms/wecom-kf/simulate.ts';
import { wecomRobot } from '../../src/platforms/wecom-robot/index.ts';
import { buildWecomRobotSample } from '../../src/platforms/wecom-robot/simulate.ts';
import { wecom } from '../../src/platforms/wecom/index.ts';
import { buildWecomSample } from '../../src/platforms/wecom/simulate.ts';
import { testAdapterDeps } from '../helpers/adapter-deps.ts';
import { WECOM_KEYS, wecomUrlCheck } from '../helpers/wecom.ts';
import { channel as kfChannel } from '../platforms/wecom-kf/helpers.ts';
import { channel as robotChannel } from '../platforms/wecom-robot/helpers.ts';
import { channel as appChannel } from '../platforms/wecom/helpers.ts';
import { RUNS, accepted, outcomeOrRefusal, requestOfSample, type SignedParts } from './arbitraries.ts';
import { describeCallbackProperties } from './callback-properties.ts';

/*
 * WeCom self-built apps, group robots and customer service (the callback.ts of src/platforms/wecom, wecom-robot and wecom-kf over
 * src/platforms/_kit/wecom-callback.ts and wecom-crypto.ts): the URL check (GET) and callbacks (POST).
 */

const app = appChannel();
const robot = robotChannel();
const kf = kfChannel();

const appAdapter = wecom.create(app, testAdapterDeps());
const robotAdapter = wecomRobot.create(robot, testAdapterDeps());

/** `<Encrypt>` as WeCom writes it, bare or as CDATA, holding base64 (what the signature is computed over, whitespace removed). */
const ENCRYPT_ELEMENT = /<Encrypt>(?:\s*<!\[CDATA\[([^\]]*)\]\]>\s*|([^<]*))<\/Encrypt>/;

/**
 * What msg_signature covers (https://developer.work.weixin.qq.com/document/path/90968): the Token,
 * timestamp, nonce and the Encrypt value (echostr for the URL check). Exception: the outer XML
 * around `<Encrypt>` (ToUserName, AgentID) is not signed; WeCom's own library ignores it too, and
 * what imgate uses comes from the decrypted message.
 */
function wecomCovered(req: InboundRequest): unknown {
  let query: Record<string, string | undefined>;
  try {
    query = signedQuery(req.rawQuery);
  } catch {
    return [req.method, 'malformed query'];
  }
  const found = ENCRYPT_ELEMENT.exec(req.rawBody.toString('utf8'));
  const text = found?.[1] ?? found?.[2];
  const encrypt = req.method === 'GET' ? query.echostr : text !== undefined && /^[A-Za-z0-9+/=\s]*$/.test(text) ? text.replace(/\s+/g, '') : undefined;
  return [req.method, query.msg_signature?.toLowerCase(), query.timestamp, query.nonce, encrypt];
}

const parts: SignedParts = { headers: ['content-type'], queryParams: ['msg_signature', 'timestamp', 'nonce'], timestamp: { query: 'timestamp' } };
const urlCheckParts: SignedParts = { headers: [], queryParams: ['msg_signature', 'timestamp', 'nonce', 'echostr'], timestamp: { query: 'timestamp' } };

const urlCheck = (): InboundRequest => requestOfSample({ path: `/hooks/x?${wecomUrlCheck('echo-1616140317555161061')}`, method: 'POST', headers: {}, body: '' }, { method: 'GET' });

/** Element values that make the normalizers take each branch, and any text. */
const xmlValue = (values: string[]) => fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...values) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) });

/** One element: its text as CDATA, as bare (unescaped, possibly breaking) text, or nested elements. */
function element(name: string, value: fc.Arbitrary<string>, depth = 0): fc.Arbitrary<string> {
  const nested = depth > 1 ? fc.constant('') : fc.array(fc.constantFrom('Content', 'ImageUrl', 'UserId', 'Name', 'MsgItem', 'MsgType', 'Text', 'Image', 'toString', 'valueOf').chain((child) => element(child, value, depth + 1)), { maxLength: 3 }).map((children) => children.join(''));
  return fc.oneof(value.map(cdata), value, nested).map((inner) => `<${name}>${inner}</${name}>`);
}

/**
 * A decrypted callback: the platform's elements, each present (with any of its values), missing or
 * repeated, encrypted and signed with the channel's keys.
 */
function shapedWecom(names: Record<string, string[]>, channel: { id: string; token: string; encodingAESKey: string }, receiveId: string): fc.Arbitrary<InboundRequest> {
  const elements = Object.entries(names).map(([name, values]) => {
    const one = element(name, xmlValue(values));
    return fc.oneof({ weight: 5, arbitrary: one }, { weight: 1, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.tuple(one, one).map((pair) => pair.join('')) });
  });
  return fc.tuple(...elements).map((children) => {
    const innerXml = `<xml>${children.join('')}</xml>`;
    return requestOfSample(encryptedWecomSample(channel, { receiveId, innerXml, timestamp: wecomTimestamp(new Date()) }));
  });
}

const APP_FIELDS: Record<string, string[]> = {
  ToUserName: [WECOM_KEYS.corpId],
  FromUserName: ['zhangsan', ''],
  CreateTime: ['1348831860', '0', '-1', '99999999999999999999', '1e300', 'x'],
  MsgType: ['text', 'image', 'voice', 'video', 'file', 'location', 'link', 'event', 'news', ''],
  Event: ['subscribe', 'unsubscribe', 'enter_agent', 'click', 'view', 'LOCATION', 'change_contact'],
  Content: ['hello', ''],
  MsgId: ['7349268471863513114', '', '0'],
  AgentID: ['1000002'],
  PicUrl: ['https://x/p.png'],
  MediaId: ['m'],
  Location_X: ['23.1', 'nan'],
  Location_Y: ['113.3'],
  FileSize: ['20480', '-1', 'big'],
  EventKey: ['KEY'],
};

const ROBOT_FIELDS: Record<string, string[]> = {
  WebhookUrl: ['https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k', 'http://evil.example/', ''],
  MsgId: ['abcd', ''],
  ChatId: ['wrkSFfCgAAimgate', ''],
  ChatType: ['group', 'single', ''],
  From: ['zhangsan'],
  MsgType: ['text', 'image', 'mixed', 'event', 'attachment', 'stream', ''],
  Text: ['@RobotA hello'],
  Image: ['https://x/i.png'],
  MixedMessage: [''],
  Event: ['add_to_chat', 'delete_from_chat', 'enter_chat'],
  Attachment: [''],
  PostId: ['p1'],
};

describe('property: WeCom callbacks', () => {
  it('any <Encrypt> element, however long its whitespace, is read or refused within the time limit (no backtracking blow-up)', async () => {
    // A fresh, signed query, so that every body reaches the <Encrypt> pattern (which runs before the signature is checked).
    const { rawQuery } = requestOfSample(buildWecomSample(app));
    const bodies = fc
      .tuple(
        fc.constantFrom('<xml>', ''),
        fc.constantFrom('<Encrypt>', '<Encrypt><![CDATA[', '<Encrypt>\n', '<Encrypt>AAAA'),
        fc.constantFrom(' ', '\n', '\t', 'A', '=', ' A'),
        fc.integer({ min: 1, max: 1500 }),
        fc.constantFrom('', '!', '<', ']]>', '</Encrypt>', ']]></Encrypt>'),
      )
      .map(([head, open, filler, times, close]) => Buffer.from(head + open + filler.repeat(times) + close, 'utf8'));
    await fc.assert(
      fc.asyncProperty(bodies, async (rawBody) => {
        await outcomeOrRefusal(() => appAdapter.handleCallback({ ...requestOfSample(buildWecomSample(app)), rawQuery, rawBody }));
      }),
      { numRuns: RUNS.shaped },
    );
  });

  describeCallbackProperties('wecom app POST', {
    handle: (req) => appAdapter.handleCallback(req),
    sample: () => requestOfSample(buildWecomSample(app)),
    parts,
    covered: wecomCovered,
    shaped: shapedWecom(APP_FIELDS, app, app.corpId),
  });

  describeCallbackProperties('wecom app GET (URL check)', {
    handle: (req) => appAdapter.handleCallback(req),
    sample: urlCheck,
    parts: urlCheckParts,
    covered: wecomCovered,
  });

  describeCallbackProperties('wecom-robot POST', {
    handle: (req) => robotAdapter.handleCallback(req),
    sample: () => requestOfSample(buildWecomRobotSample(robot)),
    parts,
    covered: wecomCovered,
    // Robots encrypt for an empty receiveid.
    shaped: shapedWecom(ROBOT_FIELDS, { id: robot.id, token: robot.token!, encodingAESKey: robot.encodingAESKey! }, ''),
  });

  // Customer service: a taken notice starts a pull and is answered `success`; that start is what acceptance means here.
  const kfKeys = wecomCallbackKeys({ token: kf.token, encodingAESKey: kf.encodingAESKey, receiveId: kf.corpId, timestampWindowSeconds: kf.timestampWindowSeconds });
  let pulls = 0;
  describeCallbackProperties('wecom-kf POST (kf_msg_or_event notice)', {
    handle: (req) => {
      pulls = 0;
      return handleWecomKfCallback(kfKeys, testAdapterDeps(), req, () => void (pulls += 1));
    },
    sample: () => requestOfSample(buildWecomKfSample(kf, { openKfId: 'wkPropertyTest' })),
    parts,
    covered: wecomCovered,
    accepted: (result) => result.ok && pulls > 0,
    shaped: shapedWecom(
      { ToUserName: [WECOM_KEYS.corpId], CreateTime: APP_FIELDS.CreateTime!, MsgType: ['event', 'text'], Event: ['kf_msg_or_event', 'x'], Token: ['ENCabc', ''], OpenKfId: ['wk1', ''] },
      kf,
      kf.corpId,
    ),
  });

  describeCallbackProperties('wecom-kf GET (URL check)', {
    handle: (req) => handleWecomKfCallback(kfKeys, testAdapterDeps(), req, () => undefined),
    sample: urlCheck,
    parts: urlCheckParts,
    covered: wecomCovered,
    accepted,
  });
});
