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

/** The ImgateError a promise rejects with, for tests that look at more than its code. */
export async function rejection(promise: Promise<unknown>): Promise<ImgateError> {
  const error = await promise.then(
    () => assert.fail('expected a rejection'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof ImgateError, String(error));
  return error;
}
