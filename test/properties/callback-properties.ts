import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import type { CallbackOutcome, InboundRequest } from '../../src/platforms/_kit/adapter.ts';
import {
  RUNS,
  accepted,
  applyMutations,
  arbitraryMutations,
  arbitraryRequest,
  outcomeOrRefusal,
  type Result,
  type SignedParts,
} from './arbitraries.ts';

/** One inbound parser and verifier under the three properties of the issue (see describeCallbackProperties). */
export interface CallbackSubject {
  /** The adapter's `handleCallback` (or the function behind it). */
  handle(req: InboundRequest): CallbackOutcome | Promise<CallbackOutcome>;
  /** A valid, correctly signed request, as the platform sends it. */
  sample(): InboundRequest;
  /** Where the sample's signature, timestamp and the like are, for the mutations. */
  parts: SignedParts;
  /**
   * What the platform's signature (or token) covers, as the platform defines it, in a form that
   * compares with `===` after JSON.stringify. A mutation that changes it must be refused; one that
   * leaves it as it was changed only what is not signed, and may be accepted (each subject says
   * why in a comment).
   */
  covered(req: InboundRequest): unknown;
  /** Whether the adapter took the request; default: events, or a 2xx answer. */
  accepted?(result: Result<CallbackOutcome>): boolean;
  /** Requests correctly signed over payloads shaped like the platform's, with any values: normalizers get past the verifier. */
  shaped?: fc.Arbitrary<InboundRequest>;
}

/**
 * The properties of every inbound parser (issue 12, item 6), as `it`s of the enclosing describe:
 * 1. any request → an outcome or a 4xx ImgateError, never another exception, never a 5xx;
 * 2. a mutated sample (body bytes, headers, query, timestamp, method) → refused with a 4xx unless
 *    only unsigned parts changed, never a 5xx;
 * 3. the unmodified sample is accepted (so that 2 is not vacuous).
 */
export function describeCallbackProperties(name: string, subject: CallbackSubject): void {
  const took = subject.accepted ?? accepted;

  it(`${name}: the unmodified signed sample is accepted`, async () => {
    const result = await outcomeOrRefusal(() => subject.handle(subject.sample()));
    assert.ok(took(result), `the sample was refused: ${result.ok ? JSON.stringify(result.value) : result.error.message}`);
  });

  it(`${name}: any method, headers, query and body give an outcome or a 4xx refusal`, async () => {
    await fc.assert(
      fc.asyncProperty(arbitraryRequest, async (req) => {
        await outcomeOrRefusal(() => subject.handle(req));
      }),
      { numRuns: RUNS.fuzz },
    );
  });

  it(`${name}: a mutated signed sample is refused unless only unsigned parts changed`, async () => {
    const sample = subject.sample();
    const original = JSON.stringify(subject.covered(sample));
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(arbitraryMutations(sample, subject.parts), async (mutations) => {
        const mutated = applyMutations(sample, mutations, subject.parts);
        const result = await outcomeOrRefusal(() => subject.handle(mutated));
        if (JSON.stringify(subject.covered(mutated)) !== original) {
          assert.ok(!took(result), `a mutation of the signed content was accepted: ${JSON.stringify(mutations)}`);
        }
        if (!result.ok) refused += 1;
      }),
      { numRuns: RUNS.mutation },
    );
    // Most mutations touch what is signed; a run that refused nothing tested nothing.
    assert.ok(refused > 0, 'no mutation was refused');
  });

  if (subject.shaped) {
    const shaped = subject.shaped;
    it(`${name}: signed payloads of the platform's shape with any values give an outcome or a 4xx refusal`, async () => {
      let taken = 0;
      await fc.assert(
        fc.asyncProperty(shaped, async (req) => {
          if ((await outcomeOrRefusal(() => subject.handle(req))).ok) taken += 1;
        }),
        // The sample first: one payload of the shape that certainly gets through, whatever the random ones do.
        { numRuns: RUNS.shaped, examples: [[subject.sample()]] },
      );
      if (process.env.IMGATE_PROPERTY_STATS) console.log(`${name}: ${taken} of ${RUNS.shaped} shaped payloads gave an outcome`);
      assert.ok(taken > 0, 'every shaped payload was refused, the sample too');
    });
  }
}
