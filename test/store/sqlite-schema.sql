CREATE TABLE api_keys (
  id         TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  channels   TEXT NOT NULL
);

CREATE TABLE counters (
  channel    TEXT NOT NULL,
  key        TEXT NOT NULL,
  value      INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (channel, key)
);

CREATE INDEX counters_updated_at ON counters (updated_at);

CREATE TABLE cursors (
  channel    TEXT NOT NULL,
  key        TEXT NOT NULL,
  value      TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (channel, key)
);

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
, lease_token TEXT, order_key TEXT, replayed_at_attempt INTEGER NOT NULL DEFAULT 0);

CREATE INDEX deliveries_event_id ON deliveries (event_id);

CREATE INDEX deliveries_open_by_subscription ON deliveries (subscription_id, status) WHERE status IN ('pending', 'in_flight', 'dead');

CREATE INDEX deliveries_order ON deliveries (subscription_id, order_key) WHERE order_key IS NOT NULL;

CREATE INDEX deliveries_status_next_attempt_at ON deliveries (status, next_attempt_at);

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

CREATE TABLE events (
  id                  TEXT PRIMARY KEY,
  channel             TEXT NOT NULL,
  dedup_key           TEXT NOT NULL,
  message_id          TEXT NOT NULL,
  platform_message_id TEXT NOT NULL,
  received_at         INTEGER NOT NULL,
  event_json          TEXT NOT NULL,
  raw_json            TEXT NOT NULL,
  raw_body            BLOB NOT NULL, raw_content_type TEXT, raw_query TEXT,
  UNIQUE (channel, dedup_key)
);

CREATE INDEX events_channel_id ON events (channel, id);

CREATE INDEX events_channel_message_id ON events (channel, message_id);

CREATE INDEX events_channel_platform_message_id ON events (channel, platform_message_id)
  WHERE platform_message_id <> dedup_key;

CREATE INDEX events_received_at ON events (received_at);

CREATE TABLE idempotency_keys (
  scope         TEXT NOT NULL,
  key           TEXT NOT NULL,
  request_hash  TEXT NOT NULL,
  state         TEXT NOT NULL CHECK (state IN ('in_progress', 'done')),
  response_json TEXT,
  created_at    INTEGER NOT NULL, calling_since INTEGER,
  PRIMARY KEY (scope, key)
);

CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

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

CREATE TABLE outbound_messages (
  id                  TEXT PRIMARY KEY,
  channel             TEXT NOT NULL,
  recipient           TEXT NOT NULL,
  platform_message_id TEXT,
  reply_to_event_id   TEXT,
  created_at          INTEGER NOT NULL
);

CREATE INDEX outbound_messages_created_at ON outbound_messages (created_at);

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

CREATE TABLE pull_streams (
  subscription_id TEXT PRIMARY KEY,
  head            INTEGER NOT NULL
);

CREATE TABLE schema_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  applied_at INTEGER NOT NULL
);

CREATE TABLE send_slots (
  key        TEXT NOT NULL,
  slot       INTEGER NOT NULL,
  token      TEXT,
  busy_until INTEGER NOT NULL,
  PRIMARY KEY (key, slot)
);

CREATE TABLE "subscriptions" (
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
, ordering TEXT NOT NULL DEFAULT 'none' CHECK (ordering IN ('none', 'conversation')), pull INTEGER NOT NULL DEFAULT 0);

CREATE TABLE tokens (
  key        TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
