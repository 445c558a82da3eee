// What the `/v1` API answers, as far as the console reads it (README "Routes", docs/pull.md).

export interface Page<T> {
  data: T[];
  next: string | null;
}

export interface Channel {
  id: string;
  platform: string;
  canSend: boolean;
  connected: boolean | null;
  heldBy?: string | null;
  lastEventAt: string | null;
  lastError: { at: string; code: string; message: string } | null;
}

export interface UnifiedEvent {
  id: string;
  type: string;
  channel: string;
  platform: string;
  receivedAt: string;
  message: { id: string; platformId: string; type: string; text: string | null };
  sender: { id: string; name: string | null; isSelf: boolean };
  conversation: { id: string; type: 'direct' | 'group'; name: string | null };
}

export interface Delivery {
  id: string;
  eventId: string;
  subscriptionId: string;
  status: 'pending' | 'in_flight' | 'succeeded' | 'dead';
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Attempt {
  attempt: number;
  startedAt: string;
  latencyMs: number;
  statusCode: number | null;
  responseBody: string | null;
  error: string | null;
}

export interface Subscription {
  id: string;
  url: string | null;
  pull: boolean;
  signing: string;
  format: string;
  channels: string[] | null;
  groups: 'all' | 'mention' | 'none';
  includeSelf: boolean;
  enabled: boolean;
  ordering: 'none' | 'conversation';
  source: 'config' | 'api' | 'puppet';
  secretCount: number;
  stream?: { ackedCursor: string | null; headCursor: string };
}

export interface Cluster {
  node: string;
  store: string;
  now: string;
  nodes: { id: string; roles: string[]; alive: boolean; startedAt: string; lastHeartbeatAt: string }[];
  leases: { name: string; holder: string; acquiredAt: string; expiresAt: string }[];
}
