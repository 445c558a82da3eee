import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { go, href } from '../router.ts';
import type { Subscription } from '../types.ts';
import { ErrorNote, Loading, useLoad } from '../ui.tsx';

interface Draft {
  id: string;
  pull: boolean;
  url: string;
  secret: string;
  channels: string;
  groups: Subscription['groups'];
  ordering: Subscription['ordering'];
  includeSelf: boolean;
  enabled: boolean;
}

const BLANK: Draft = { id: '', pull: false, url: '', secret: '', channels: '', groups: 'all', ordering: 'none', includeSelf: false, enabled: true };

function draftOf(sub: Subscription): Draft {
  return { ...BLANK, ...sub, url: sub.url ?? '', secret: '', channels: sub.channels?.join(', ') ?? '' };
}

/** The body to send: a new subscription in full (POST), an edit as the fields it changes (PATCH). */
function bodyOf(draft: Draft, creating: boolean): Record<string, unknown> {
  const channels = draft.channels
    .split(',')
    .map((channel) => channel.trim())
    .filter(Boolean);
  const body: Record<string, unknown> = {
    groups: draft.groups,
    ordering: draft.ordering,
    includeSelf: draft.includeSelf,
    enabled: draft.enabled,
    channels: channels.length > 0 ? channels : undefined,
  };
  if (creating) {
    if (draft.id) body.id = draft.id;
    body.pull = draft.pull;
  }
  if (!draft.pull) {
    body.url = draft.url;
    if (draft.secret) body.secret = draft.secret;
  }
  return body;
}

/** Create (`POST /v1/subscriptions`) or edit (`PATCH /v1/subscriptions/:id`) a subscription. */
export function SubscriptionFormPage({ id }: { id?: string }) {
  const existing = useLoad(async () => (id === undefined ? undefined : api<Subscription>('GET', `/v1/subscriptions/${encodeURIComponent(id)}`)), [id]);
  if (id !== undefined && !existing.data) {
    return (
      <section>
        <h1>Edit {id}</h1>
        <ErrorNote error={existing.error} />
        {existing.error ? null : <Loading />}
      </section>
    );
  }
  return <SubscriptionForm initial={existing.data ? draftOf(existing.data) : BLANK} editing={id} />;
}

function SubscriptionForm({ initial, editing }: { initial: Draft; editing: string | undefined }) {
  const [draft, setDraft] = useState(initial);
  const [error, setError] = useState<Error>();
  const creating = editing === undefined;
  const set = <K extends keyof Draft>(key: K, value: Draft[K]): void => setDraft({ ...draft, [key]: value });
  const text = (key: 'id' | 'url' | 'secret' | 'channels') => ({
    name: key,
    value: draft[key],
    onInput: (changed: Event) => set(key, (changed.currentTarget as HTMLInputElement).value),
  });
  const check = (key: 'pull' | 'includeSelf' | 'enabled') => ({
    name: key,
    type: 'checkbox' as const,
    checked: draft[key],
    onChange: (changed: Event) => set(key, (changed.currentTarget as HTMLInputElement).checked),
  });

  async function save(): Promise<void> {
    // PATCH keeps a field left out, and the API has no value for "every channel" to send instead.
    if (!creating && initial.channels !== '' && draft.channels.trim() === '') {
      setError(new Error('The channels of an existing subscription cannot be emptied here: list the channels it should get, or create a new subscription for every channel.'));
      return;
    }
    try {
      const path = creating ? '/v1/subscriptions' : `/v1/subscriptions/${encodeURIComponent(editing)}`;
      await api(creating ? 'POST' : 'PATCH', path, bodyOf(draft, creating));
      go(['subscriptions']);
    } catch (failed) {
      setError(failed as Error);
    }
  }

  return (
    <section>
      <header class="page-head">
        <h1>{creating ? 'New subscription' : `Edit ${editing}`}</h1>
        <a href={href(['subscriptions'])}>All subscriptions</a>
      </header>
      <ErrorNote error={error} />
      <form
        class="form"
        onSubmit={(submitted) => {
          submitted.preventDefault();
          void save();
        }}
      >
        {creating ? (
          <>
            <label>
              <span>
                Id <span class="muted">(letters, digits, . _ -; left empty, imgate picks one)</span>
              </span>
              <input {...text('id')} autocomplete="off" />
            </label>
            <label class="check">
              <input {...check('pull')} /> Pull subscription: clients read a stream, no webhook (docs/pull.md)
            </label>
          </>
        ) : null}
        {draft.pull ? null : (
          <>
            <label>
              <span>
                URL <span class="muted">(where events are POSTed)</span>
              </span>
              <input {...text('url')} type="url" required placeholder="https://bot.example.com/imgate" />
            </label>
            <label>
              <span>
                Signing secret <span class="muted">{creating ? '(whsec_… or any string)' : '(empty: keep the current one)'}</span>
              </span>
              <input {...text('secret')} type="password" required={creating} autocomplete="new-password" />
            </label>
          </>
        )}
        <label>
          <span>
                Channels <span class="muted">(comma-separated ids; empty: every channel)</span>
              </span>
          <input {...text('channels')} />
        </label>
        <label>
          Group messages
          <select name="groups" value={draft.groups} onChange={(changed) => set('groups', changed.currentTarget.value as Draft['groups'])}>
            <option value="all">all</option>
            <option value="mention">only those mentioning the bot</option>
            <option value="none">none</option>
          </select>
        </label>
        <label>
          Ordering
          <select name="ordering" value={draft.ordering} onChange={(changed) => set('ordering', changed.currentTarget.value as Draft['ordering'])}>
            <option value="none">none: in parallel</option>
            <option value="conversation">conversation: each conversation in order</option>
          </select>
        </label>
        <label class="check">
          <input {...check('includeSelf')} /> Also the bot's own messages
        </label>
        <label class="check">
          <input {...check('enabled')} /> Enabled
        </label>
        <div class="actions">
          <button type="submit" class="primary">
            {creating ? 'Create' : 'Save'}
          </button>
        </div>
      </form>
    </section>
  );
}
