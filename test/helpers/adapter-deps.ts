import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { NormalizedEvent } from '../../src/core/event.ts';
import type { AdapterDeps } from '../../src/platforms/_kit/adapter.ts';
import type { IngestOptions } from '../../src/platforms/_kit/adapter.ts';
import { TokenService } from '../../src/tokens/token-service.ts';
import { guardedAgent, publicOnlyPolicy } from '../../src/core/address-guard.ts';

/** One for every test's deps, as the gateway has one: public addresses only. */
const downloads = guardedAgent(publicOnlyPolicy([]));

/** What an adapter under unit test handed its sink. */
export interface SinkCall {
  events: NormalizedEvent[];
  rawBody: Buffer;
  options: IngestOptions | undefined;
}

export interface TestAdapterDeps extends AdapterDeps {
  sinkCalls: SinkCall[];
  reportedErrors: unknown[];
  cursors: AdapterDeps['cursors'] & { values: Map<string, string> };
  /** The accounts `handedOff` answers true for. */
  handedOffKeys: Set<string>;
}

/** A logger at `trace` that keeps every line it writes, for tests of what is (and is not) logged. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), lines };
}

/**
 * Adapter dependencies for unit tests of one adapter: a sink that records what it gets (and keeps
 * cursors as a store would), and a token service over an in-memory token table. Integration tests
 * use the real gateway instead.
 */
export function testAdapterDeps(logger: Logger = pino({ level: 'silent' })): TestAdapterDeps {
  const sinkCalls: SinkCall[] = [];
  const reportedErrors: unknown[] = [];
  const values = new Map<string, string>();
  const counters = new Map<string, number>();
  const tokens = new Map<string, { value: string; expiresAt: number }>();
  const handedOffKeys = new Set<string>();
  return {
    logger,
    sinkCalls,
    reportedErrors,
    reportError: (error) => void reportedErrors.push(error),
    reportPulled: () => undefined,
    handedOffKeys,
    handedOff: (key) => handedOffKeys.has(key),
    downloads,
    sink: {
      ingest: async (events, rawBody, options) => {
        sinkCalls.push({ events, rawBody, options });
        if (options?.cursor) values.set(options.cursor.key, options.cursor.value);
        for (const value of options?.values ?? []) values.set(value.key, value.value);
        return events.map((event) => ({ status: 'stored', eventId: event.dedupKey, deliveryIds: [] }));
      },
    },
    // One node alone: the cluster stage of a send limit always has a slot (its rules are tested in
    // test/platforms/_kit/cluster-send-limiter.test.ts against real stores).
    sendSlots: { takeSendSlot: async () => ({ token: 'single-node' }), releaseSendSlot: async () => undefined },
    cursors: { values, get: async (key) => values.get(key) ?? null, keys: async () => [...values.keys()] },
    values: { get: async (key) => values.get(key) ?? null, put: async (key, value) => void values.set(key, value) },
    counters: {
      next: async (key) => {
        const value = (counters.get(key) ?? 0) + 1;
        counters.set(key, value);
        return value;
      },
    },
    tokens: new TokenService(
      {
        getToken: async (key) => tokens.get(key) ?? null,
        putToken: async (key, value, expiresAt) => void tokens.set(key, { value, expiresAt }),
        deleteToken: async (key, onlyValue) => {
          if (onlyValue === undefined || tokens.get(key)?.value === onlyValue) tokens.delete(key);
        },
      },
      logger,
    ),
  };
}
