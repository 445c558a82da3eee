import assert from 'node:assert/strict';
import { ImgateError } from '../../src/core/errors.ts';

/**
 * A validator for `assert.rejects`/`assert.throws`: the error is an ImgateError with `code`, and
 * passes `check` (for its status, message or details).
 */
export function failsWith(code: string, check: (error: ImgateError) => void = () => undefined) {
  return (error: unknown) => {
    assert.ok(error instanceof ImgateError, String(error));
    assert.equal(error.code, code);
    check(error);
    return true;
  };
}
