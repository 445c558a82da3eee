import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { href } from '../router.ts';
import type { Attempt, Delivery } from '../types.ts';
import { Empty, ErrorNote, Loading, Notice, Table, Time, deliveryBadge, useLoad } from '../ui.tsx';

/** `GET /v1/deliveries/:id` with its attempt log, and `POST /v1/deliveries/:id/replay`. */
export function DeliveryPage({ id }: { id: string }) {
  const { data: delivery, error, reload } = useLoad(() => api<Delivery & { attemptLog: Attempt[] }>('GET', `/v1/deliveries/${encodeURIComponent(id)}`), [id]);
  const [outcome, setOutcome] = useState<{ done?: string; error?: Error }>({});

  async function replay(): Promise<void> {
    try {
      await api('POST', `/v1/deliveries/${encodeURIComponent(id)}/replay`);
      setOutcome({ done: 'Replayed: the delivery is due again now.' });
    } catch (failed) {
      setOutcome({ error: failed as Error });
    }
    reload();
  }

  return (
    <section>
      <header class="page-head">
        <h1>
          Delivery <code>{id}</code>
        </h1>
        <div class="actions">
          <button type="button" onClick={reload}>
            Refresh
          </button>
          <button type="button" class="primary" onClick={() => void replay()} disabled={delivery?.status === 'in_flight'}>
            Replay
          </button>
        </div>
      </header>
      {outcome.done ? <Notice>{outcome.done}</Notice> : null}
      <ErrorNote error={outcome.error ?? error} />
      {!delivery && !error ? <Loading /> : null}
      {delivery ? (
        <>
          <dl class="facts">
            <dt>Status</dt>
            <dd>{deliveryBadge(delivery.status)}</dd>
            <dt>Event</dt>
            <dd>
              <a href={href(['events', delivery.eventId])}>{delivery.eventId}</a>
            </dd>
            <dt>Subscription</dt>
            <dd>{delivery.subscriptionId}</dd>
            <dt>Attempts</dt>
            <dd>{delivery.attempts}</dd>
            <dt>{delivery.status === 'pending' ? 'Next attempt' : 'Updated'}</dt>
            <dd>
              <Time iso={delivery.status === 'pending' ? delivery.nextAttemptAt : delivery.updatedAt} />
            </dd>
            <dt>Last error</dt>
            <dd class="wrap">{delivery.lastError ?? <span class="muted">none</span>}</dd>
          </dl>
          <h2>Attempt log</h2>
          {delivery.attemptLog.length === 0 ? (
            <Empty>No attempt yet.</Empty>
          ) : (
            <Table head={['#', 'Started', 'Took', 'Answer', 'Response or error']}>
              {delivery.attemptLog.map((attempt) => (
                <tr key={attempt.attempt} data-attempt={attempt.attempt}>
                  <td>{attempt.attempt}</td>
                  <td>
                    <Time iso={attempt.startedAt} />
                  </td>
                  <td>{attempt.latencyMs} ms</td>
                  <td>{attempt.statusCode === null ? <span class="error-text">no answer</span> : `HTTP ${attempt.statusCode}`}</td>
                  <td class="wrap">
                    {attempt.error ? <span class="error-text">{attempt.error}</span> : null}
                    {attempt.responseBody ? <code class="body">{attempt.responseBody}</code> : null}
                  </td>
                </tr>
              ))}
            </Table>
          )}
        </>
      ) : null}
    </section>
  );
}
