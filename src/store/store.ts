import type { ConfigState } from './ports/config-state.ts';
import type { Coordination } from './ports/coordination.ts';
import type { DeliveryQueue } from './ports/delivery-queue.ts';
import type { EventLog } from './ports/event-log.ts';
import type { KeyValue } from './ports/key-value.ts';
import type { PullStreams } from './ports/pull-streams.ts';
import type { Retention } from './ports/retention.ts';
import type { SendSlots } from './ports/send-slots.ts';
import type { SendLog } from './ports/sends.ts';

export type * from './ports/config-state.ts';
export type * from './ports/coordination.ts';
export type * from './ports/delivery-queue.ts';
export type * from './ports/event-log.ts';
export { CursorMovedError } from './ports/event-log.ts';
export { StoreFullError } from './errors.ts';
export type * from './ports/key-value.ts';
export type * from './ports/pull-streams.ts';
export type * from './ports/retention.ts';
export type * from './ports/send-slots.ts';
export type * from './ports/sends.ts';

/**
 * Everything imgate keeps, one port per role (`ports/`). SQLite (embedded default, one process) and
 * PostgreSQL (any number of nodes) implement every port and pass one conformance suite
 * (`test/store/conformance.ts`). Code above `src/store` takes the ports it needs and never names an
 * engine; `open.ts` picks the engine from the URL.
 */
export interface Store extends EventLog, DeliveryQueue, PullStreams, ConfigState, SendLog, KeyValue, Coordination, SendSlots, Retention {
  /** `sqlite` or `postgres`, for logs and `/v1/cluster`. */
  readonly engine: string;
  /** Applies pending migrations, once however many nodes start together. Safe on every start. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}
