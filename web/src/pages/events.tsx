import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api.ts';
import { who } from '../format.ts';
import { go, href, type Route } from '../router.ts';
import type { Channel, Page, UnifiedEvent } from '../types.ts';
import { Empty, ErrorNote, Loading, Table, Time, useLoad } from '../ui.tsx';

const FILTERS = ['channel', 'sender', 'conversation', 'text'] as const;

/** `GET /v1/events` searched by channel, sender, conversation and text; a page of 50, newest first. */
export function EventsPage({ route }: { route: Route }) {
  const filters = Object.fromEntries(FILTERS.map((name) => [name, route.params.get(name) ?? ''])) as Record<(typeof FILTERS)[number], string>;
  const before = route.params.get('before') ?? undefined;
  const channels = useLoad(() => api<{ data: Channel[] }>('GET', '/v1/channels'), []);
  const events = useLoad(() => api<Page<UnifiedEvent>>('GET', `/v1/events${query({ ...filters, before, limit: 50 })}`), [route.params.toString()]);

  const [typed, setTyped] = useState(filters);
  useEffect(() => setTyped(filters), [route.params.toString()]);
  const field = (name: (typeof FILTERS)[number]) => ({
    name,
    value: typed[name],
    onInput: (changed: Event) => setTyped({ ...typed, [name]: (changed.currentTarget as HTMLInputElement).value }),
  });

  return (
    <section>
      <header class="page-head">
        <h1>Events</h1>
      </header>
      <form
        class="filters"
        onSubmit={(submitted) => {
          submitted.preventDefault();
          go(['events'], Object.fromEntries(FILTERS.map((name) => [name, typed[name].trim()])));
        }}
      >
        <label>
          Channel
          <select {...field('channel')}>
            <option value="">every channel</option>
            {channels.data?.data.map((channel) => (
              <option key={channel.id} value={channel.id}>
                {channel.id}
              </option>
            ))}
          </select>
        </label>
        <label>
          Sender id
          <input {...field('sender')} placeholder="wxid_…" />
        </label>
        <label>
          Conversation id
          <input {...field('conversation')} placeholder="…@chatroom" />
        </label>
        <label class="grow">
          Text contains
          <input {...field('text')} type="search" placeholder="any part of the message" />
        </label>
        <button type="submit">Search</button>
      </form>
      <ErrorNote error={events.error} />
      {!events.data && !events.error ? <Loading /> : null}
      {events.data && events.data.data.length === 0 ? (
        <Empty>{Object.values(filters).some(Boolean) ? 'No event matches this search.' : 'No event has been stored yet. Point a platform at /hooks/<channel>, or try `imgate simulate`.'}</Empty>
      ) : null}
      {events.data && events.data.data.length > 0 ? (
        <>
          <Table head={['Received', 'Channel', 'Sender', 'Conversation', 'Type', 'Text']}>
            {events.data.data.map((event) => (
              <tr key={event.id} data-event={event.id}>
                <td>
                  <a href={href(['events', event.id])}>
                    <Time iso={event.receivedAt} />
                  </a>
                </td>
                <td>{event.channel}</td>
                <td class="wrap">{who(event.sender)}</td>
                <td class="wrap">
                  {event.conversation.type === 'group' ? '# ' : ''}
                  {who(event.conversation)}
                </td>
                <td>{event.type === 'message' ? event.message.type : event.type}</td>
                <td class="wrap text-cell">{event.message.text ?? <span class="muted">(no text)</span>}</td>
              </tr>
            ))}
          </Table>
          <nav class="pager">
            {before ? <a href={href(['events'], filters)}>Newest</a> : null}
            {events.data.next ? <a href={href(['events'], { ...filters, before: events.data.next })}>Older</a> : null}
          </nav>
        </>
      ) : null}
    </section>
  );
}
