/**
 * The PostgreSQL schema, one entry per version. Applied in order by `migrate.ts`; an applied
 * migration is never edited, a change is a new entry. Table and column names are the SQLite
 * schema's. Times are epoch milliseconds (bigint); lists and payloads are JSON kept as text, not
 * jsonb, so that they read back exactly as written (jsonb reorders keys and rewrites numbers).
 * Ids that are listed in order or paged with `before` are COLLATE "C": they sort by bytes, as on
 * SQLite and in JS, whatever the database's locale.
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
  id                  text COLLATE "C" PRIMARY KEY,
  channel             text NOT NULL,
  dedup_key           text NOT NULL,
  message_id          text NOT NULL,
  platform_message_id text NOT NULL,
  received_at         bigint NOT NULL,
  event_json          text NOT NULL,
  raw_json            text NOT NULL,
  raw_body            bytea NOT NULL,
  raw_content_type    text,
  raw_query           text,
  UNIQUE (channel, dedup_key)
);
CREATE INDEX events_channel_id ON events (channel, id);
CREATE INDEX events_channel_message_id ON events (channel, message_id);
-- Most platforms deduplicate on the message id itself, which the unique index already finds.
CREATE INDEX events_channel_platform_message_id ON events (channel, platform_message_id)
  WHERE platform_message_id <> dedup_key;
CREATE INDEX events_received_at ON events (received_at);

CREATE TABLE deliveries (
  id              text COLLATE "C" PRIMARY KEY,
  event_id        text COLLATE "C" NOT NULL REFERENCES events (id),
  subscription_id text NOT NULL,
  status          text NOT NULL CHECK (status IN ('pending', 'in_flight', 'succeeded', 'dead')),
  attempts        integer NOT NULL,
  next_attempt_at bigint NOT NULL,
  lease_until     bigint,
  lease_token     text,
  last_error      text,
  created_at      bigint NOT NULL,
  updated_at      bigint NOT NULL,
  -- ordering: conversation: the conversation a delivery waits its turn in, and the order stored
  order_key       text,
  seq             bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX deliveries_status_next_attempt_at ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_event_id ON deliveries (event_id);
CREATE INDEX deliveries_order ON deliveries (subscription_id, order_key, seq) WHERE order_key IS NOT NULL;

CREATE TABLE delivery_attempts (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  delivery_id   text COLLATE "C" NOT NULL REFERENCES deliveries (id),
  attempt       integer NOT NULL,
  started_at    bigint NOT NULL,
  latency_ms    integer NOT NULL,
  status_code   integer,
  response_body text,
  error         text
);
CREATE INDEX delivery_attempts_delivery_id ON delivery_attempts (delivery_id, id);

CREATE TABLE subscriptions (
  id             text COLLATE "C" PRIMARY KEY,
  url            text NOT NULL,
  secrets        text NOT NULL,
  signing        text NOT NULL,
  format         text NOT NULL,
  channels       text,
  message_types  text,
  include_self   boolean NOT NULL,
  groups         text NOT NULL,
  enabled        boolean NOT NULL,
  timeout_ms     integer NOT NULL,
  retry_schedule text NOT NULL,
  include_raw    boolean NOT NULL,
  ordering       text NOT NULL DEFAULT 'none' CHECK (ordering IN ('none', 'conversation')),
  source         text NOT NULL CHECK (source IN ('config', 'api', 'puppet')),
  created_at     bigint NOT NULL,
  updated_at     bigint NOT NULL
);

CREATE TABLE api_keys (
  id         text PRIMARY KEY,
  token_hash text NOT NULL UNIQUE,
  channels   text NOT NULL
);

CREATE TABLE idempotency_keys (
  scope         text NOT NULL,
  key           text NOT NULL,
  request_hash  text NOT NULL,
  state         text NOT NULL CHECK (state IN ('in_progress', 'done')),
  response_json text,
  created_at    bigint NOT NULL,
  calling_since bigint,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

CREATE TABLE outbound_messages (
  id                  text PRIMARY KEY,
  channel             text NOT NULL,
  recipient           text NOT NULL,
  platform_message_id text,
  reply_to_event_id   text,
  created_at          bigint NOT NULL
);
CREATE INDEX outbound_messages_created_at ON outbound_messages (created_at);

CREATE TABLE tokens (
  key        text PRIMARY KEY,
  value      text NOT NULL,
  expires_at bigint NOT NULL
);

CREATE TABLE cursors (
  channel    text NOT NULL,
  key        text COLLATE "C" NOT NULL,
  value      text NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (channel, key)
);

CREATE TABLE counters (
  channel    text NOT NULL,
  key        text NOT NULL,
  value      bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (channel, key)
);
CREATE INDEX counters_updated_at ON counters (updated_at);

CREATE TABLE leases (
  name        text COLLATE "C" PRIMARY KEY,
  holder      text NOT NULL,
  token       text NOT NULL,
  acquired_at bigint NOT NULL,
  expires_at  bigint NOT NULL
);

CREATE TABLE nodes (
  id                text COLLATE "C" PRIMARY KEY,
  roles             text NOT NULL,
  started_at        bigint NOT NULL,
  last_heartbeat_at bigint NOT NULL
);

CREATE TABLE send_slots (
  key        text NOT NULL,
  slot       integer NOT NULL,
  token      text,
  busy_until bigint NOT NULL,
  PRIMARY KEY (key, slot)
);
`,
  },
  {
    version: 2,
    name: 'pull-subscriptions',
    // Pull subscriptions keep their events in a stream per subscription, numbered in commit order
    // (the cursor clients resume from; see pull-streams.ts), and the last cursor a client
    // acknowledged (a table of its own, so that acknowledging never waits for an ingest holding the
    // stream's head). Entries go with their events at the purge; a deleted subscription's stream
    // goes with it.
    sql: `
ALTER TABLE subscriptions ADD COLUMN pull boolean NOT NULL DEFAULT false;

CREATE TABLE pull_streams (
  subscription_id text COLLATE "C" PRIMARY KEY,
  head            bigint NOT NULL
);

CREATE TABLE pull_acks (
  subscription_id text COLLATE "C" PRIMARY KEY,
  acked           bigint NOT NULL
);

CREATE TABLE pull_entries (
  subscription_id text COLLATE "C" NOT NULL,
  seq             bigint NOT NULL,
  event_id        text COLLATE "C" NOT NULL REFERENCES events (id),
  PRIMARY KEY (subscription_id, seq)
);
CREATE INDEX pull_entries_event_id ON pull_entries (event_id);
`,
  },
  {
    version: 3,
    name: 'replay-keeps-attempt-numbers',
    // A replay used to set attempts back to 0, so the attempt log read 1, 2, 3, 1. Attempts now keep
    // counting; the retry schedule starts again from the attempt of the last replay.
    sql: `
ALTER TABLE deliveries ADD COLUMN replayed_at_attempt integer NOT NULL DEFAULT 0;
`,
  },
  {
    version: 4,
    name: 'open-deliveries-index',
    // The /metrics gauges count open deliveries by subscription and status on every scrape: a partial
    // index of the open ones lets that count skip the delivered rows, which are nearly all of them.
    sql: `
CREATE INDEX deliveries_open_by_subscription ON deliveries (subscription_id, status) WHERE status IN ('pending', 'in_flight', 'dead');
`,
  },
];
