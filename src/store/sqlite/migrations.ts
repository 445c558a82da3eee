/**
 * The SQLite schema, one entry per version. Applied in order by `migrate.ts`; an applied migration
 * is never edited, a change is a new entry. Kept in TypeScript so that it ships in `dist`.
 * Times are epoch milliseconds; lists are JSON text; booleans are 0/1.
 */

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
CREATE TABLE events (
  id                  TEXT PRIMARY KEY,
  channel             TEXT NOT NULL,
  dedup_key           TEXT NOT NULL,
  message_id          TEXT NOT NULL,
  platform_message_id TEXT NOT NULL,
  received_at         INTEGER NOT NULL,
  event_json          TEXT NOT NULL,
  raw_json            TEXT NOT NULL,
  raw_body            BLOB NOT NULL,
  UNIQUE (channel, dedup_key)
);
CREATE INDEX events_channel_id ON events (channel, id);
CREATE INDEX events_channel_message_id ON events (channel, message_id);
CREATE INDEX events_channel_platform_message_id ON events (channel, platform_message_id);
CREATE INDEX events_received_at ON events (received_at);

CREATE TABLE deliveries (
  id              TEXT PRIMARY KEY,
  event_id        TEXT NOT NULL REFERENCES events (id),
  subscription_id TEXT NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('pending', 'in_flight', 'succeeded', 'dead')),
  attempts        INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  lease_until     INTEGER,
  last_error      TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);
CREATE INDEX deliveries_status_next_attempt_at ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_event_id ON deliveries (event_id);

CREATE TABLE delivery_attempts (
  id            INTEGER PRIMARY KEY,
  delivery_id   TEXT NOT NULL REFERENCES deliveries (id),
  attempt       INTEGER NOT NULL,
  started_at    INTEGER NOT NULL,
  latency_ms    INTEGER NOT NULL,
  status_code   INTEGER,
  response_body TEXT,
  error         TEXT
);
CREATE INDEX delivery_attempts_delivery_id ON delivery_attempts (delivery_id, attempt);

CREATE TABLE subscriptions (
  id             TEXT PRIMARY KEY,
  url            TEXT NOT NULL,
  secrets        TEXT NOT NULL,
  signing        TEXT NOT NULL,
  format         TEXT NOT NULL,
  channels       TEXT,
  message_types  TEXT,
  include_self   INTEGER NOT NULL,
  groups         TEXT NOT NULL,
  enabled        INTEGER NOT NULL,
  timeout_ms     INTEGER NOT NULL,
  retry_schedule TEXT NOT NULL,
  include_raw    INTEGER NOT NULL,
  source         TEXT NOT NULL CHECK (source IN ('config', 'api')),
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);

CREATE TABLE api_keys (
  id         TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  channels   TEXT NOT NULL
);

CREATE TABLE idempotency_keys (
  scope         TEXT NOT NULL,
  key           TEXT NOT NULL,
  request_hash  TEXT NOT NULL,
  state         TEXT NOT NULL CHECK (state IN ('in_progress', 'done')),
  response_json TEXT,
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

CREATE TABLE outbound_messages (
  id                  TEXT PRIMARY KEY,
  channel             TEXT NOT NULL,
  recipient           TEXT NOT NULL,
  platform_message_id TEXT,
  reply_to_event_id   TEXT,
  created_at          INTEGER NOT NULL
);
CREATE INDEX outbound_messages_created_at ON outbound_messages (created_at);

CREATE TABLE tokens (
  key        TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);

CREATE TABLE cursors (
  channel    TEXT NOT NULL,
  key        TEXT NOT NULL,
  value      TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (channel, key)
);
`,
  },
  {
    version: 2,
    name: 'platform-message-id-index-only-where-it-differs',
    // Most platforms deduplicate on the message id itself, so the unique (channel, dedup_key) index
    // already finds those events; a second index on the same random key doubled the pages every
    // ingest commit writes (the benchmark's largest cost, docs/benchmarks.md).
    sql: `
DROP INDEX events_channel_platform_message_id;
CREATE INDEX events_channel_platform_message_id ON events (channel, platform_message_id)
  WHERE platform_message_id <> dedup_key;
`,
  },
  {
    version: 3,
    name: 'raw-request-shape-and-puppet-subscriptions',
    // WeCom subscribers with format raw get the encrypted XML and its signed query as WeCom sent
    // them; and KF puppets registered through the manager contract are subscriptions of their own
    // kind. SQLite cannot change a CHECK constraint in place, so subscriptions is rebuilt (nothing
    // references it by foreign key).
    sql: `
ALTER TABLE events ADD COLUMN raw_content_type TEXT;
ALTER TABLE events ADD COLUMN raw_query TEXT;

CREATE TABLE subscriptions_v3 (
  id             TEXT PRIMARY KEY,
  url            TEXT NOT NULL,
  secrets        TEXT NOT NULL,
  signing        TEXT NOT NULL,
  format         TEXT NOT NULL,
  channels       TEXT,
  message_types  TEXT,
  include_self   INTEGER NOT NULL,
  groups         TEXT NOT NULL,
  enabled        INTEGER NOT NULL,
  timeout_ms     INTEGER NOT NULL,
  retry_schedule TEXT NOT NULL,
  include_raw    INTEGER NOT NULL,
  source         TEXT NOT NULL CHECK (source IN ('config', 'api', 'puppet')),
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);
INSERT INTO subscriptions_v3 SELECT * FROM subscriptions;
DROP TABLE subscriptions;
ALTER TABLE subscriptions_v3 RENAME TO subscriptions;
`,
  },
  {
    version: 4,
    name: 'counters',
    // Numbers that must grow across restarts and nodes, per channel and key (QQ's msg_seq: the
    // replies to one message). Purged with the events, by the last time a counter was counted.
    sql: `
CREATE TABLE counters (
  channel    TEXT NOT NULL,
  key        TEXT NOT NULL,
  value      INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (channel, key)
);
CREATE INDEX counters_updated_at ON counters (updated_at);
`,
  },
  {
    version: 5,
    name: 'idempotency-calling-since',
    // When a send holding the key began calling its platform: a claim abandoned after that point
    // may have sent the message, so it is answered as of unknown outcome instead of taken over.
    sql: `
ALTER TABLE idempotency_keys ADD COLUMN calling_since INTEGER;
`,
  },
  {
    version: 6,
    name: 'fenced-leases-and-coordination',
    // A claim's token: only the worker holding it may record the attempt (a worker whose lease ran
    // out and was taken over is refused). Named leases for work one node does at a time, the nodes'
    // heartbeats for /v1/cluster, and send rate-limit slots counted for the whole cluster. And
    // `ordering: conversation`: a delivery's conversation, in which it waits for the earlier ones
    // (in rowid order, the order stored).
    sql: `
ALTER TABLE deliveries ADD COLUMN lease_token TEXT;
ALTER TABLE deliveries ADD COLUMN order_key TEXT;
CREATE INDEX deliveries_order ON deliveries (subscription_id, order_key) WHERE order_key IS NOT NULL;
ALTER TABLE subscriptions ADD COLUMN ordering TEXT NOT NULL DEFAULT 'none' CHECK (ordering IN ('none', 'conversation'));

CREATE TABLE leases (
  name        TEXT PRIMARY KEY,
  holder      TEXT NOT NULL,
  token       TEXT NOT NULL,
  acquired_at INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL
);

CREATE TABLE nodes (
  id                TEXT PRIMARY KEY,
  roles             TEXT NOT NULL,
  started_at        INTEGER NOT NULL,
  last_heartbeat_at INTEGER NOT NULL
);

CREATE TABLE send_slots (
  key        TEXT NOT NULL,
  slot       INTEGER NOT NULL,
  token      TEXT,
  busy_until INTEGER NOT NULL,
  PRIMARY KEY (key, slot)
);
`,
  },
  {
    version: 7,
    name: 'pull-subscriptions',
    // Pull subscriptions keep their events in a stream per subscription, numbered in commit order
    // (the cursor clients resume from), and the last cursor a client acknowledged (a table of its
    // own, so that acknowledging never waits for an ingest holding the stream's head). Entries go
    // with their events at the purge; a deleted subscription's stream goes with it.
    sql: `
ALTER TABLE subscriptions ADD COLUMN pull INTEGER NOT NULL DEFAULT 0;

CREATE TABLE pull_streams (
  subscription_id TEXT PRIMARY KEY,
  head            INTEGER NOT NULL
);

CREATE TABLE pull_acks (
  subscription_id TEXT PRIMARY KEY,
  acked           INTEGER NOT NULL
);

CREATE TABLE pull_entries (
  subscription_id TEXT NOT NULL,
  seq             INTEGER NOT NULL,
  event_id        TEXT NOT NULL REFERENCES events (id),
  PRIMARY KEY (subscription_id, seq)
) WITHOUT ROWID;
CREATE INDEX pull_entries_event_id ON pull_entries (event_id);
`,
  },
  {
    version: 8,
    name: 'replay-keeps-attempt-numbers',
    // A replay used to set attempts back to 0, so the attempt log read 1, 2, 3, 1. Attempts now keep
    // counting; the retry schedule starts again from the attempt of the last replay.
    sql: `
ALTER TABLE deliveries ADD COLUMN replayed_at_attempt INTEGER NOT NULL DEFAULT 0;
`,
  },
  {
    version: 9,
    name: 'open-deliveries-index',
    // The /metrics gauges count open deliveries by subscription and status on every scrape. Without
    // this index SQLite read every open row from the table (2 s with 1M open, blocking the event loop);
    // the partial covering index holds only the open ones, and the count reads it alone (75 ms with 1M open).
    sql: `
CREATE INDEX deliveries_open_by_subscription ON deliveries (subscription_id, status) WHERE status IN ('pending', 'in_flight', 'dead');
`,
  },
];
