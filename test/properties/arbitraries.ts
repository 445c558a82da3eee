import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import fc from 'fast-check';
import { ImgateError } from '../../src/core/errors.ts';
import type { CallbackOutcome, InboundRequest } from '../../src/platforms/_kit/adapter.ts';
import type { CallbackSample } from '../../src/platforms/_kit/callback-sample.ts';

/*
 * Shared arbitraries and checks of the property tests (test/properties/*.test.ts): arbitrary
 * requests, mutations of a valid signed sample, and the one contract every inbound parser keeps —
 * an outcome, or an ImgateError below 500; never another exception, never a 5xx.
 */

/**
 * Runs per property (`frames`: each run waits for a WebSocket round trip). All property files together stay under ~30 s on two shared cores; a failure
 * prints fast-check's seed and path, which `fc.assert(…, { seed, path })` replays.
 * IMGATE_PROPERTY_SCALE multiplies them for a longer hunt (`IMGATE_PROPERTY_SCALE=20`).
 */
const SCALE = Math.max(1, Number(process.env.IMGATE_PROPERTY_SCALE ?? 1) || 1);
// A failing property shows what the parser threw in its report, not only the input.
fc.configureGlobal({ ...fc.readConfigureGlobal(), includeErrorInReport: true });

export const RUNS = { fuzz: 120 * SCALE, mutation: 120 * SCALE, shaped: 80 * SCALE, pure: 250 * SCALE, frames: 30 * SCALE } as const;

/** What a parser did with one input: its outcome, or the (4xx) ImgateError it refused with. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ImgateError };

/**
 * A parse of one request (a few hundred KiB at most) taking longer than this holds the event loop:
 * a denial of service. Generous, for a loaded test machine; a backtracking pattern takes far longer.
 */
const PARSE_TIME_LIMIT_MS = 1000;

/**
 * Runs `parse` and checks the contract: it returns, or throws an ImgateError whose status is
 * below 500, within PARSE_TIME_LIMIT_MS. Anything else fails the property with what was thrown.
 */
export async function outcomeOrRefusal<T>(parse: () => T | Promise<T>): Promise<Result<T>> {
  const started = performance.now();
  try {
    return { ok: true, value: await parse() };
  } catch (error) {
    if (!(error instanceof ImgateError)) {
      assert.fail(`threw something other than an ImgateError: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
    assert.ok(error.status < 500, `refused with ${error.status} ${error.code}: ${error.message}`);
    return { ok: false, error };
  } finally {
    const took = performance.now() - started;
    assert.ok(took < PARSE_TIME_LIMIT_MS, `the parse took ${Math.round(took)} ms`);
  }
}

/** The synchronous form of outcomeOrRefusal, for parsers that are not async. */
export function outcomeOrRefusalSync<T>(parse: () => T): Result<T> {
  const started = performance.now();
  try {
    return { ok: true, value: parse() };
  } catch (error) {
    if (!(error instanceof ImgateError)) {
      assert.fail(`threw something other than an ImgateError: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
    assert.ok(error.status < 500, `refused with ${error.status} ${error.code}: ${error.message}`);
    return { ok: false, error };
  } finally {
    const took = performance.now() - started;
    assert.ok(took < PARSE_TIME_LIMIT_MS, `the parse took ${Math.round(took)} ms`);
  }
}

/** A callback the adapter took: events to store, or a 2xx answer (a URL check, a handshake). */
export function accepted(result: Result<CallbackOutcome>): boolean {
  if (!result.ok) return false;
  const outcome = result.value;
  return outcome.kind === 'events' || (outcome.reply.status >= 200 && outcome.reply.status < 300);
}

// ---------------------------------------------------------------------------------------------
// Arbitrary requests

/** Pieces of what the platforms send, so that random text reaches past the first checks more often. */
const JSON_PIECES = ['{', '}', '[', ']', ',', ':', '"', '\\', '"op":', '0', '13', '"d":', '"type":', '1', '2', '"encrypt":', '"challenge":', '"header":', '"schema":"2.0"', '"token":', 'null', 'true', '12345678901234567890', '-9007199254740993', '1e309', '"\\u0000"', '"\\ud800"', '{"toString":1}', '{"valueOf":{}}'];
const XML_PIECES = ['<xml>', '</xml>', '<Encrypt>', '</Encrypt>', '<![CDATA[', ']]>', '<!DOCTYPE x [<!ENTITY a "b">]>', '&amp;', '&#0;', '&bogus;', '<MsgType>', '</MsgType>', '<a b="c">', '<?xml version="1.0"?>', '<!--', '-->', '\u0000', '<toString>1</toString>', '<valueOf/>'];
const QUERY_PIECES = ['msg_signature=', 'timestamp=', 'nonce=', 'echostr=', '&', '=', '%', '%zz', '%E4', '%C0%AF', '%2B', '+', '/', 'abc', '0123456789abcdef', '1700000000'];

const piecesOf = (pieces: string[]) =>
  fc.array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...pieces) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) }), { maxLength: 40 }).map((parts) => parts.join(''));

/**
 * An opening piece (a tag, a CDATA section, a string, a number) followed by a long run of one
 * filler and maybe a closing piece: where a parser's time grows faster than the body (a
 * backtracking pattern), a thousand or two of them take seconds.
 */
const longRuns: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom('<Encrypt>', '<![CDATA[', '<!--', '<a>', '{"a":', '[', '"', ':', '%', ''),
    fc.constantFrom(' ', '\n', 'a', '0', '=', '\\', '<a>', '<![CDATA['),
    fc.integer({ min: 1, max: 1500 }),
    fc.constantFrom('', '!', '<', ']]>', '</Encrypt>', '"', '}'),
  )
  .map(([open, filler, times, close]) => open + filler.repeat(times) + close);

/** A request body: raw bytes, any text, JSON, JSON-ish and XML-ish text, and long runs. */
export const arbitraryBody: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 600 }).map((bytes) => Buffer.from(bytes)),
  fc.string({ unit: 'binary', maxLength: 300 }).map((text) => Buffer.from(text, 'utf8')),
  fc.json({ maxDepth: 4 }).map((text) => Buffer.from(text, 'utf8')),
  piecesOf(JSON_PIECES).map((text) => Buffer.from(text, 'utf8')),
  piecesOf(XML_PIECES).map((text) => Buffer.from(text, 'utf8')),
  { weight: 2, arbitrary: fc.tuple(piecesOf(XML_PIECES), longRuns, longRuns).map(([head, ...runs]) => Buffer.from(head + runs.join(''), 'utf8')) },
);

/** The headers some platform reads, and a few it does not. */
const HEADER_NAMES = [
  'content-type',
  'timestamp',
  'sign',
  'x-webhook-timestamp',
  'x-webhook-signature',
  'x-wechat-abot-signature',
  'x-lark-request-timestamp',
  'x-lark-request-nonce',
  'x-lark-signature',
  'x-signature-ed25519',
  'x-signature-timestamp',
  'x-bot-appid',
  'authorization',
  'x-forwarded-for',
];

/** Values shaped like what those headers carry (current timestamps, hex and base64 signatures), and any text. */
const headerValue: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constant(''),
  fc.constant(String(Math.floor(Date.now() / 1000))),
  fc.constant(String(Date.now())),
  fc.integer().map(String),
  fc.stringMatching(/^[0-9a-f]{128}$/),
  fc.stringMatching(/^[0-9a-f]{64}$/),
  fc.stringMatching(/^sha256=[0-9a-f]{64}$/),
  fc.stringMatching(/^[A-Za-z0-9+/]{43}=$/),
);

export const arbitraryHeaders: fc.Arbitrary<IncomingHttpHeaders> = fc.dictionary(
  fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...HEADER_NAMES) }, { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 10 }).map((name) => name.toLowerCase()) }),
  fc.oneof({ weight: 4, arbitrary: headerValue }, { weight: 1, arbitrary: fc.array(headerValue, { minLength: 1, maxLength: 3 }) }),
  { maxKeys: 8 },
) as fc.Arbitrary<IncomingHttpHeaders>;

export const arbitraryRawQuery: fc.Arbitrary<string> = fc.oneof(piecesOf(QUERY_PIECES), fc.string({ unit: 'binary', maxLength: 60 }));

export const arbitraryMethod: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constant('POST') },
  { weight: 2, arbitrary: fc.constant('GET') },
  { weight: 1, arbitrary: fc.constantFrom('PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'BREW') },
);

/** Any request as `/hooks/:channel` could hand it to an adapter. */
export const arbitraryRequest: fc.Arbitrary<InboundRequest> = fc
  .record({
    method: arbitraryMethod,
    headers: arbitraryHeaders,
    rawQuery: arbitraryRawQuery,
    pathToken: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
    rawBody: arbitraryBody,
  })
  .map((parts) => ({ ...parts, query: queryOf(parts.rawQuery), receivedAt: new Date() }));

/** The parsed query as fastify hands it over (form-style decoding, repeated names as the last; never throws). */
function queryOf(rawQuery: string): Record<string, string | undefined> {
  return Object.fromEntries(new URLSearchParams(rawQuery));
}

// ---------------------------------------------------------------------------------------------
// Mutations of a valid sample

export type Mutation =
  | { kind: 'flip-body'; at: number; mask: number }
  | { kind: 'insert-body'; at: number; byte: number }
  | { kind: 'delete-body'; at: number }
  | { kind: 'header'; name: string; value: string | undefined }
  | { kind: 'query'; name: string; value: string | undefined }
  | { kind: 'flip-query'; at: number; char: string }
  | { kind: 'timestamp'; delta: number }
  | { kind: 'method'; method: string }
  | { kind: 'path-token'; value: string | undefined };

/** Where a platform carries its signature, timestamp and the like, so mutations aim at what matters. */
export interface SignedParts {
  /** Headers the platform reads (signature, timestamp, nonce, …). */
  headers: string[];
  /** Signed query parameters (WeCom). */
  queryParams?: string[];
  /** Where the timestamp is, and its unit: changed by a small delta that keeps it plausible. */
  timestamp?: { header?: string; query?: string };
  /** The sample came with a path token (wechat-pad `auth: path-token`). */
  pathToken?: boolean;
}

/** A value close to `original` (one character changed, case or spacing changed) or any text, or none. */
function nearValue(original: string | undefined): fc.Arbitrary<string | undefined> {
  const base = original ?? '';
  return fc.oneof(
    fc.constant(undefined),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constant(base.toUpperCase()),
    fc.constant(` ${base} `),
    fc.constant(base.slice(0, -1)),
    fc.constant(`${base}0`),
    fc.tuple(fc.nat(), fc.constantFrom(...'0123456789abcdefABCDEF+/=')).map(([at, char]) => {
      if (base === '') return char;
      const i = at % base.length;
      return base.slice(0, i) + char + base.slice(i + 1);
    }),
  );
}

/** One mutation of `sample`, aimed at its body, the headers and query parameters in `parts`, and its timestamp. */
export function arbitraryMutation(sample: InboundRequest, parts: SignedParts): fc.Arbitrary<Mutation> {
  const options: fc.Arbitrary<Mutation>[] = [
    fc.record({ kind: fc.constant('flip-body' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ kind: fc.constant('insert-body' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('delete-body' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('method' as const), method: fc.constantFrom('GET', 'PUT', 'DELETE', 'post') }),
  ];
  if (parts.headers.length > 0) {
    options.push(
      fc.constantFrom(...parts.headers).chain((name) =>
        nearValue(headerText(sample.headers[name])).map((value): Mutation => ({ kind: 'header', name, value })),
      ),
    );
  }
  if (parts.queryParams && parts.queryParams.length > 0) {
    const query = new URLSearchParams(sample.rawQuery);
    options.push(
      fc.constantFrom(...parts.queryParams).chain((name) => nearValue(query.get(name) ?? undefined).map((value): Mutation => ({ kind: 'query', name, value }))),
      fc.record({ kind: fc.constant('flip-query' as const), at: fc.nat(), char: fc.constantFrom('0', 'a', '%', '&', '=', '+', 'Z') }),
    );
  }
  if (parts.timestamp) {
    options.push(fc.integer({ min: -100_000, max: 100_000 }).filter((delta) => delta !== 0).map((delta): Mutation => ({ kind: 'timestamp', delta })));
  }
  if (parts.pathToken) options.push(nearValue(sample.pathToken).map((value): Mutation => ({ kind: 'path-token', value })));
  return fc.oneof(...options);
}

/** Up to three mutations at once. */
export function arbitraryMutations(sample: InboundRequest, parts: SignedParts): fc.Arbitrary<Mutation[]> {
  return fc.array(arbitraryMutation(sample, parts), { minLength: 1, maxLength: 3 });
}

export function applyMutations(sample: InboundRequest, mutations: Mutation[], parts: SignedParts): InboundRequest {
  return mutations.reduce((req, mutation) => applyMutation(req, mutation, parts), sample);
}

function applyMutation(req: InboundRequest, mutation: Mutation, parts: SignedParts): InboundRequest {
  const body = req.rawBody;
  switch (mutation.kind) {
    case 'flip-body': {
      if (body.length === 0) return req;
      const copy = Buffer.from(body);
      const i = mutation.at % copy.length;
      copy[i] = (copy[i] as number) ^ mutation.mask;
      return { ...req, rawBody: copy };
    }
    case 'insert-body': {
      const i = mutation.at % (body.length + 1);
      return { ...req, rawBody: Buffer.concat([body.subarray(0, i), Buffer.from([mutation.byte]), body.subarray(i)]) };
    }
    case 'delete-body': {
      if (body.length === 0) return req;
      const i = mutation.at % body.length;
      return { ...req, rawBody: Buffer.concat([body.subarray(0, i), body.subarray(i + 1)]) };
    }
    case 'header': {
      const headers = { ...req.headers };
      if (mutation.value === undefined) delete headers[mutation.name];
      else headers[mutation.name] = mutation.value;
      return { ...req, headers };
    }
    case 'query': {
      const query = new URLSearchParams(req.rawQuery);
      if (mutation.value === undefined) query.delete(mutation.name);
      else query.set(mutation.name, mutation.value);
      return withRawQuery(req, query.toString());
    }
    case 'flip-query': {
      if (req.rawQuery === '') return req;
      const i = mutation.at % req.rawQuery.length;
      return withRawQuery(req, req.rawQuery.slice(0, i) + mutation.char + req.rawQuery.slice(i + 1));
    }
    case 'timestamp': {
      const { header, query } = parts.timestamp ?? {};
      if (header !== undefined) {
        const value = headerText(req.headers[header]);
        if (value === undefined) return req;
        return { ...req, headers: { ...req.headers, [header]: shift(value, mutation.delta) } };
      }
      if (query !== undefined) {
        const params = new URLSearchParams(req.rawQuery);
        const value = params.get(query);
        if (value === null) return req;
        params.set(query, shift(value, mutation.delta));
        return withRawQuery(req, params.toString());
      }
      return req;
    }
    case 'method':
      return { ...req, method: mutation.method };
    case 'path-token':
      return { ...req, pathToken: mutation.value };
  }
}

function shift(value: string, delta: number): string {
  return /^\d+$/.test(value.trim()) ? String(Number(value.trim()) + delta) : `${value}${delta}`;
}

function withRawQuery(req: InboundRequest, rawQuery: string): InboundRequest {
  return { ...req, rawQuery, query: queryOf(rawQuery) };
}

export function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A `build…Sample` callback as the `/hooks` route hands it to the adapter. */
export function requestOfSample(sample: CallbackSample, overrides: Partial<InboundRequest> = {}): InboundRequest {
  const split = sample.path.indexOf('?');
  const rawQuery = split === -1 ? '' : sample.path.slice(split + 1);
  return {
    method: sample.method,
    headers: { ...sample.headers },
    query: queryOf(rawQuery),
    rawQuery,
    pathToken: undefined,
    rawBody: Buffer.from(sample.body, 'utf8'),
    receivedAt: new Date(),
    ...overrides,
  };
}

// ---------------------------------------------------------------------------------------------
// Payloads shaped like a platform's, with any values

/**
 * JSON shaped like `template`: each key kept (with a value shaped like the template's), dropped,
 * or given any JSON value; strings and numbers replaced by any text, numbers, long integers.
 * Feeds normalizers payloads that pass the verifier (signed with the right key) but hold what no
 * platform sends. `overrides` gives the values of keys of that name at any depth (message types
 * the normalizer switches on, say).
 */
export function shapedLike(template: unknown, overrides: Record<string, fc.Arbitrary<unknown>> = {}, depth = 0): fc.Arbitrary<unknown> {
  const anyJson = fc.oneof({ weight: 4, arbitrary: fc.jsonValue({ maxDepth: 2 }) }, { weight: 1, arbitrary: hostileJson });
  if (depth > 5) return anyJson;
  if (Array.isArray(template)) {
    const item = template.length > 0 ? shapedLike(template[0], overrides, depth + 1) : anyJson;
    return fc.oneof({ weight: 3, arbitrary: fc.array(item, { maxLength: 3 }) }, { weight: 1, arbitrary: anyJson });
  }
  if (template !== null && typeof template === 'object') {
    const fields = Object.fromEntries(
      Object.entries(template).map(([key, value]) => [
        key,
        fc.oneof({ weight: 6, arbitrary: overrides[key] ?? shapedLike(value, overrides, depth + 1) }, { weight: 1, arbitrary: anyJson }),
      ]),
    );
    return fc.oneof(
      { weight: 8, arbitrary: fc.record(fields, { requiredKeys: Object.keys(template).filter((_, i) => i % 2 === 0) }) },
      { weight: 1, arbitrary: anyJson },
    );
  }
  if (typeof template === 'string') {
    return fc.oneof(
      { weight: 3, arbitrary: fc.constant(template) },
      { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
      { weight: 1, arbitrary: fc.constantFrom('', ' ', '0', '-1', '1e300', '1e400', '99999999999999999999', 'null', '<xml>', '@', '<@123>', '<@!123>', '\u2005', 'https://x/', '%') },
      { weight: 1, arbitrary: fc.integer().map(String) },
    );
  }
  if (typeof template === 'number') {
    return fc.oneof(
      { weight: 3, arbitrary: fc.constant(template) },
      { weight: 1, arbitrary: fc.integer() },
      { weight: 1, arbitrary: fc.double() },
      { weight: 1, arbitrary: fc.constantFrom(0, -1, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER, 1e300) },
      { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
    );
  }
  if (typeof template === 'boolean') return fc.oneof(fc.boolean(), anyJson);
  return anyJson;
}

/**
 * JSON values that break a careless `String(value)`, `Number(value)` or template literal: parsed
 * JSON (and parsed XML) can hold objects whose own `toString` or `valueOf` is data, not a function.
 */
export const hostileJson: fc.Arbitrary<unknown> = fc.constantFrom<unknown>(
  { toString: '' },
  { valueOf: 1, toString: {} },
  [{ toString: 1 }],
  { __proto__: 'x', constructor: 'y' },
  JSON.parse('{"__proto__": {"toString": 1}}'),
);

/** Times as platforms write them (seconds or milliseconds, numbers or strings), and beyond what a Date holds. */
export const arbitraryTime: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(1_764_000_000, 1_764_000_000_123, '1764000000123', 0, -1, 1e300, '1e300', 8.64e15 + 1, '99999999999999999999', 'x', null),
  fc.double(),
  fc.integer().map(String),
);
