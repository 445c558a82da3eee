import { useState } from 'preact/hooks';
import { api, query } from '../api.ts';
import { go, href, type Route } from '../router.ts';
import type { Delivery, Page, Subscription } from '../types.ts';
import { Empty, ErrorNote, Loading, Notice, Table, Time, useLoad } from '../ui.tsx';

/**
 * Dead letters (`GET /v1/deliveries?status=dead`), one subscription's or all, replayed one by one or
 * all at once (`POST /v1/deliveries/replay`).
 */
export function DeadLettersPage({ route }: { route: Route }) {
  const subscription = route.params.get('subscription') ?? '';
  const before = route.params.get('before') ?? undefined;
  const subscriptions = useLoad(() => api<{ data: Subscription[] }>('GET', '/v1/subscriptions'), []);
  const dead = useLoad(
    () => api<Page<Delivery>>('GET', `/v1/deliveries${query({ status: 'dead', subscription, before, limit: 50 })}`),
    [route.params.toString()],
  );
  const [outcome, setOutcome] = useState<{ done?: string; error?: Error }>({});

  async function run(what: () => Promise<string>): Promise<void> {
    try {
      setOutcome({ done: await what() });
    } catch (failed) {
      setOutcome({ error: failed as Error });
    }
    dead.reload();
  }

  const replayAll = () =>
    run(async () => {
      const { replayed } = await api<{ replayed: number }>('POST', '/v1/deliveries/replay', { status: 'dead', ...(subscription ? { subscription } : {}) });
      return `Replayed ${replayed} dead ${replayed === 1 ? 'letter' : 'letters'}${subscription ? ` of ${subscription}` : ''}.`;
    });
  const replayOne = (id: string) =>
    run(async () => {
      await api('POST', `/v1/deliveries/${encodeURIComponent(id)}/replay`);
      return `Replayed ${id}.`;
    });

  const rows = dead.data?.data ?? [];
  return (
    <section>
      <header class="page-head">
        <h1>Dead letters</h1>
        <div class="actions">
          <label class="inline">
            Subscription
            <select value={subscription} onChange={(changed) => go(['dead'], { subscription: changed.currentTarget.value })}>
              <option value="">every subscription</option>
              {subscriptions.data?.data.map((sub) => (
                <option key={sub.id} value={sub.id}>
                  {sub.id}
                </option>
              ))}
            </select>
          </label>
          <button type="button" class="primary" onClick={() => void replayAll()} disabled={rows.length === 0}>
            Replay all{subscription ? ` of ${subscription}` : ''}
          </button>
        </div>
      </header>
      {outcome.done ? <Notice>{outcome.done}</Notice> : null}
      <ErrorNote error={outcome.error ?? dead.error} />
      {!dead.data && !dead.error ? <Loading /> : null}
      {dead.data && rows.length === 0 ? <Empty>No dead letters{subscription ? ` for ${subscription}` : ''}: every delivery succeeded or is still being tried.</Empty> : null}
      {rows.length > 0 ? (
        <>
          <Table head={['Delivery', 'Subscription', 'Event', 'Attempts', 'Dead since', 'Last error', '']}>
            {rows.map((delivery) => (
              <tr key={delivery.id} data-delivery={delivery.id}>
                <td>
                  <a href={href(['deliveries', delivery.id])}>{delivery.id}</a>
                </td>
                <td>{delivery.subscriptionId}</td>
                <td>
                  <a href={href(['events', delivery.eventId])}>{delivery.eventId}</a>
                </td>
                <td>{delivery.attempts}</td>
                <td>
                  <Time iso={delivery.updatedAt} />
                </td>
                <td class="wrap error-text">{delivery.lastError}</td>
                <td>
                  <button type="button" onClick={() => void replayOne(delivery.id)}>
                    Replay
                  </button>
                </td>
              </tr>
            ))}
          </Table>
          {dead.data?.next ? (
            <nav class="pager">
              <a href={href(['dead'], { subscription, before: dead.data.next })}>Older</a>
            </nav>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
