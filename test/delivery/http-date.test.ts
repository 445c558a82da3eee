import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseHttpDate } from '../../src/delivery/http-date.ts';

// The examples of RFC 9110 §5.6.7, all the same instant.
const RFC_EXAMPLE = Date.UTC(1994, 10, 6, 8, 49, 37);
const NOW = Date.UTC(2026, 10, 23, 9, 0, 0);

describe('parseHttpDate', () => {
  it('reads IMF-fixdate', () => {
    assert.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT', NOW), RFC_EXAMPLE);
  });

  it("reads every IMF-fixdate V8's own formatter writes (Date.prototype.toUTCString) as the time it stands for", () => {
    let seed = 20261123;
    for (let n = 0; n < 2000; n++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      // Whole seconds between 1970 and 2100.
      const time = Math.floor((seed / 2147483648) * 4_102_444_800) * 1000;
      const text = new Date(time).toUTCString();
      assert.equal(parseHttpDate(text, NOW), time, text);
    }
  });

  it('reads the obsolete RFC 850 form', () => {
    assert.equal(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', NOW), RFC_EXAMPLE);
  });

  it('reads a two-digit year more than 50 years ahead as the last such year in the past', () => {
    assert.equal(parseHttpDate('Wednesday, 01-Jan-76 00:00:00 GMT', NOW), Date.UTC(2076, 0, 1), '50 years ahead at most: the future');
    assert.equal(parseHttpDate('Saturday, 01-Jan-77 00:00:00 GMT', NOW), Date.UTC(1977, 0, 1), 'further ahead: the past');
    assert.equal(parseHttpDate('Monday, 23-Nov-26 09:00:30 GMT', NOW), NOW + 30_000);
  });

  it('reads the obsolete asctime form as GMT, with a space-padded or two-digit day', () => {
    assert.equal(parseHttpDate('Sun Nov  6 08:49:37 1994', NOW), RFC_EXAMPLE);
    assert.equal(parseHttpDate('Sun Nov 06 08:49:37 1994', NOW), RFC_EXAMPLE);
    assert.equal(parseHttpDate('Wed Nov 16 08:49:37 1994', NOW), Date.UTC(1994, 10, 16, 8, 49, 37));
  });

  it('takes second 60, a leap second, as the next minute', () => {
    assert.equal(parseHttpDate('Sat, 31 Dec 2016 23:59:60 GMT', NOW), Date.UTC(2017, 0, 1));
  });

  it('keeps four-digit years below 100 as they are', () => {
    assert.equal(new Date(parseHttpDate('Fri, 01 Jan 0094 00:00:00 GMT', NOW) as number).getUTCFullYear(), 94);
  });

  it('refuses anything else', () => {
    for (const value of [
      'Sun, 06 Nov 1994 08:49:37 UTC',
      'Sun, 06 Nov 1994 08:49:37',
      'Sun, 6 Nov 1994 08:49:37 GMT',
      'sun, 06 nov 1994 08:49:37 GMT',
      'Sun, 06 NOV 1994 08:49:37 GMT',
      'Xyz, 06 Nov 1994 08:49:37 GMT',
      'Sunday, 06 Nov 1994 08:49:37 GMT',
      'Sun, 06-Nov-94 08:49:37 GMT',
      'Sun Nov 6 08:49:37 1994',
      'Sun Nov  6 08:49:37 1994 GMT',
      'Sun, 31 Feb 1994 08:49:37 GMT',
      'Sun, 00 Nov 1994 08:49:37 GMT',
      'Sun, 06 Nov 1994 24:00:00 GMT',
      'Sun, 06 Nov 1994 08:60:00 GMT',
      'Sun, 06 Nov 1994 08:49:61 GMT',
      ' Sun, 06 Nov 1994 08:49:37 GMT',
      '1994-11-06T08:49:37Z',
      'Tue 3',
      '-1',
    ]) {
      assert.equal(parseHttpDate(value, NOW), null, value);
    }
  });

  it('knows leap years', () => {
    assert.equal(parseHttpDate('Thu, 29 Feb 2024 00:00:00 GMT', NOW), Date.UTC(2024, 1, 29));
    assert.equal(parseHttpDate('Sun, 29 Feb 2026 00:00:00 GMT', NOW), null);
  });
});
