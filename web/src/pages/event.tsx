import { api } from '../api.ts';
import { who } from '../format.ts';
import { href } from '../router.ts';
import type { Delivery, UnifiedEvent } from '../types.ts';
import { Empty, ErrorNote, Loading, Table, Time, deliveryBadge, useLoad } from '../ui.tsx';

type EventDetail = UnifiedEvent & { raw: unknown; deliveries: Delivery[] };

/** `GET /v1/events/:id`: one event, its deliveries, and what the platform sent. */
export function EventPage({ id }: { id: string }) {
  const { data: event, error } = useLoad(() => api<EventDetail>('GET', `/v1/events/${encodeURIComponent(id)}`), [id]);
  return (
    <section>
      <header class="page-head">
        <h1>
          Event <code>{id}</code>
        </h1>
        <a href={href(['events'])}>All events</a>
      </header>
      <ErrorNote error={error} />
      {!event && !error ? <Loading /> : null}
      {event ? (
        <>
          <dl class="facts">
            <dt>Received</dt>
            <dd>
              <Time iso={event.receivedAt} />
            </dd>
            <dt>Channel</dt>
            <dd>
              {event.channel} ({event.platform})
            </dd>
            <dt>Type</dt>
            <dd>{event.type === 'message' ? `message, ${event.message.type}` : event.type}</dd>
            <dt>Sender</dt>
            <dd>
              <a href={href(['events'], { sender: event.sender.id })}>{who(event.sender)}</a>
              {event.sender.isSelf ? ' (the bot itself)' : ''}
            </dd>
            <dt>Conversation</dt>
            <dd>
              <a href={href(['events'], { conversation: event.conversation.id })}>{who(event.conversation)}</a> ({event.conversation.type})
            </dd>
            <dt>Text</dt>
            <dd class="wrap">{event.message.text ?? <span class="muted">(no text)</span>}</dd>
            <dt>Message ids</dt>
            <dd>
              <code>{event.message.id}</code> · platform <code>{event.message.platformId}</code>
            </dd>
          </dl>
          <h2>Deliveries</h2>
          {event.deliveries.length === 0 ? (
            <Empty>No webhook subscription matched this event (pull subscriptions read it from their stream).</Empty>
          ) : (
            <Table head={['Delivery', 'Subscription', 'Status', 'Attempts', 'Last error']}>
              {event.deliveries.map((delivery) => (
                <tr key={delivery.id} data-delivery={delivery.id}>
                  <td>
                    <a href={href(['deliveries', delivery.id])}>{delivery.id}</a>
                  </td>
                  <td>{delivery.subscriptionId}</td>
                  <td>{deliveryBadge(delivery.status)}</td>
                  <td>{delivery.attempts}</td>
                  <td class="wrap">{delivery.lastError ?? <span class="muted">none</span>}</td>
                </tr>
              ))}
            </Table>
          )}
          <details>
            <summary>The event as subscribers get it, and the platform's payload</summary>
            <pre>{JSON.stringify(event, null, 2)}</pre>
          </details>
        </>
      ) : null}
    </section>
  );
}
