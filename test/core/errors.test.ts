import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ERRORS, ImgateError, type ErrorCode } from '../../src/core/errors.ts';

const DOC = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

interface DocRow {
  status: number;
  message: string;
  line: number;
}

/** The rows of the doc's code table: `| \`IMG_ERR_…\` | status | message | when … |`. */
function documentedCodes(doc: string): { rows: Map<string, DocRow>; duplicates: string[] } {
  const rows = new Map<string, DocRow>();
  const duplicates: string[] = [];
  doc.split('\n').forEach((text, index) => {
    const match = /^\|\s*`(IMG_ERR_[A-Z0-9_]+)`\s*\|\s*([^|]*?)\s*\|\s*([^|]*?)\s*\|/.exec(text);
    if (!match) return;
    const [, code, status, message] = match as unknown as [string, string, string, string];
    if (rows.has(code)) duplicates.push(`${code} (line ${index + 1})`);
    else rows.set(code, { status: Number(status), message, line: index + 1 });
  });
  return { rows, duplicates };
}

const catalogue = Object.entries(ERRORS) as [ErrorCode, (typeof ERRORS)[ErrorCode]][];
const { rows: documented, duplicates } = documentedCodes(DOC);

describe('docs/errors.md and the error catalogue', () => {
  it('documents every code of the catalogue', () => {
    const missing = catalogue.map(([code]) => code).filter((code) => !documented.has(code));
    assert.deepEqual(missing, [], `add these codes to the table in docs/errors.md: ${missing.join(', ')}`);
  });

  it('lists each code once', () => {
    assert.deepEqual(duplicates, [], `docs/errors.md lists these codes more than once: ${duplicates.join(', ')}`);
  });

  it('documents no code that is not in the catalogue', () => {
    const mentioned = new Set(DOC.match(/IMG_ERR_[A-Z0-9_]+/g) ?? []);
    const unknown = [...mentioned].filter((code) => !(code in ERRORS));
    assert.deepEqual(unknown, [], `docs/errors.md names codes that src/core/errors.ts does not have: ${unknown.join(', ')}`);
  });

  it("gives each code the catalogue's status and message", () => {
    for (const [code, entry] of catalogue) {
      const row = documented.get(code);
      if (!row) continue; // reported by the first test
      assert.equal(row.status, entry.status, `docs/errors.md line ${row.line}: ${code} is ${entry.status} in src/core/errors.ts`);
      assert.equal(row.message, entry.message, `docs/errors.md line ${row.line}: ${code}'s message differs from src/core/errors.ts`);
    }
  });

  it('says that codes are never reused', () => {
    assert.match(DOC, /never reused/);
  });
});

describe('ImgateError', () => {
  it('takes its status and message from the catalogue', () => {
    const error = new ImgateError('IMG_ERR_AUTH_SCOPE');
    assert.equal(error.status, 403);
    assert.equal(error.message, ERRORS.IMG_ERR_AUTH_SCOPE.message);
    assert.deepEqual(error.toBody(), { error: { code: 'IMG_ERR_AUTH_SCOPE', message: ERRORS.IMG_ERR_AUTH_SCOPE.message } });
  });

  it('answers in the documented shape, with details and retry_after when there are some', () => {
    const error = new ImgateError('IMG_ERR_PLATFORM_RATE_LIMITED', { message: 'slow down', details: { httpStatus: 429 }, retryAfter: 3 });
    assert.deepEqual(error.toBody(), {
      error: { code: 'IMG_ERR_PLATFORM_RATE_LIMITED', message: 'slow down', details: { httpStatus: 429 } },
      retry_after: 3,
    });
  });
});
