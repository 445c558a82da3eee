import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ImgateError } from '../../../src/core/errors.ts';
import { containsXmlDeclaration, parseXmlSafely } from '../../../src/platforms/_kit/xml.ts';

function refusedAs(reason: string) {
  return (error: unknown) =>
    error instanceof ImgateError && error.code === 'IMG_ERR_INBOUND_MALFORMED' && error.details?.reason === reason;
}

describe('parseXmlSafely', () => {
  it('parses CDATA, attributes and predefined entities, keeping values as strings', () => {
    const parsed = parseXmlSafely(
      '<xml><ToUserName><![CDATA[toUser]]></ToUserName><MsgId>9223372036854775701</MsgId><a href="x&amp;y">1 &lt; 2</a></xml>',
    );
    assert.deepEqual(parsed, { xml: { ToUserName: 'toUser', MsgId: '9223372036854775701', a: { '#text': '1 < 2', '@_href': 'x&y' } } });
  });

  it('refuses a DOCTYPE with an external entity', () => {
    const xxe = '<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>';
    assert.throws(() => parseXmlSafely(xxe), refusedAs('declaration'));
  });

  it('refuses an entity declaration however it is spelled', () => {
    assert.throws(() => parseXmlSafely('<!doctype x><x/>'), refusedAs('declaration'));
    assert.throws(() => parseXmlSafely('<x><! ENTITY a "b"></x>'), refusedAs('declaration'));
  });

  it('takes a declaration inside CDATA as text: a message quoting HTML is not an attack', () => {
    const parsed = parseXmlSafely('<xml><Content><![CDATA[see <!DOCTYPE html> and <!ENTITY x "y"> here]]></Content></xml>');
    assert.deepEqual(parsed, { xml: { Content: 'see <!DOCTYPE html> and <!ENTITY x "y"> here' } });
    assert.throws(() => parseXmlSafely('<!DOCTYPE x [<!ENTITY a "b">]><xml><C><![CDATA[fine]]></C>&a;</xml>'), refusedAs('declaration'));
    assert.throws(() => parseXmlSafely('<xml><![CDATA[x]]><!DOCTYPE y></xml>'), refusedAs('declaration'));
  });

  it('finds a declaration after a hundred thousand unclosed CDATA openers or comments at once (a lazy pattern took a minute)', () => {
    for (const opener of ['<![CDATA[', '<!--']) {
      const text = `${opener.repeat(100_000)}<!DOCTYPE x>`;
      const started = Date.now();
      assert.equal(containsXmlDeclaration(text), true);
      assert.equal(containsXmlDeclaration(`<![CDATA[${text}]]>`), false, 'all of it inside one CDATA section');
      assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
    }
  });

  it('does not expand unknown entities', () => {
    const parsed = parseXmlSafely('<x>&nbsp;&copy;</x>');
    assert.equal(parsed.x, '&nbsp;&copy;');
  });

  it('rejects XML that is not well-formed', () => {
    assert.throws(() => parseXmlSafely('<a><b></a>'), refusedAs('invalid'));
  });
});
