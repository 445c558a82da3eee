import { createParser } from 'eventsource-parser';
import { useEffect, useState } from 'preact/hooks';
import { api, authHeaders, errorOf } from '../api.ts';
import { who } from '../format.ts';
import { href } from '../router.ts';
import type { Subscription, UnifiedEvent } from '../types.ts';
import { Badge, Empty, ErrorNote, Loading, Table, Time, useLoad } from '../ui.tsx';

/** How many of the newest events the page keeps. */
const SHOWN = 100;

type Connection = { state: 'connecting' } | { state: 'live' } | { state: 'closed'; error?: Error };

/**
 * A pull subscription's stream as it happens (`GET /v1/subscriptions/:id/stream`, docs/pull.md). It is
 * read with fetch, not EventSource: the browser's EventSource cannot send the Authorization header. It
 * names no cursor, so it starts after the last acknowledged one and acknowledges nothing: watching
 * never moves the subscription's readers on. eventsource-parser reads the SSE framing (a small,
 * well-kept parser, the one the `eventsource` package uses).
 */
export function LivePage({ id }: { id: string }) {
  const sub = useLoad(() => api<Subscription>('GET', `/v1/subscriptions/${encodeURIComponent(id)}`), [id]);
  const [events, setEvents] = useState<{ cursor: string; event: UnifiedEvent }[]>([]);
  const [connection, setConnection] = useState<Connection>({ state: 'connecting' });
  const [round, setRound] = useState(0);

  useEffect(() => {
    const abort = new AbortController();
    setConnection({ state: 'connecting' });
    setEvents([]);
    const parser = createParser({
      onEvent: (message) => {
        if (message.event !== 'imgate.event') return;
        const entry = { cursor: message.id ?? '', event: JSON.parse(message.data) as UnifiedEvent };
        setEvents((shown) => [entry, ...shown].slice(0, SHOWN));
      },
    });
    void (async () => {
      try {
        const response = await fetch(`/v1/subscriptions/${encodeURIComponent(id)}/stream`, { headers: { ...authHeaders(), accept: 'text/event-stream' }, signal: abort.signal });
        if (!response.ok || !response.body) throw await errorOf(response);
        setConnection({ state: 'live' });
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          parser.feed(value);
        }
        setConnection({ state: 'closed' });
      } catch (failed) {
        if (!abort.signal.aborted) setConnection({ state: 'closed', error: failed as Error });
      }
    })();
    return () => abort.abort();
  }, [id, round]);

  const [tested, setTested] = useState<Error>();
  async function test(): Promise<void> {
    try {
      await api('POST', `/v1/subscriptions/${encodeURIComponent(id)}/test`);
      setTested(undefined);
    } catch (failed) {
      setTested(failed as Error);
    }
  }

  return (
    <section>
      <header class="page-head">
        <h1>
          Live: <code>{id}</code>
        </h1>
        <div class="actions">
          {connection.state === 'live' ? <Badge kind="good">streaming</Badge> : connection.state === 'connecting' ? <Badge kind="wait">connecting</Badge> : <Badge kind="bad">closed</Badge>}
          {connection.state === 'closed' ? (
            <button type="button" onClick={() => setRound((n) => n + 1)}>
              Reconnect
            </button>
          ) : null}
          <button type="button" onClick={() => void test()}>
            Send a test
          </button>
          <a href={href(['subscriptions'])}>All subscriptions</a>
        </div>
      </header>
      <ErrorNote error={sub.error ?? tested ?? (connection.state === 'closed' ? connection.error : undefined)} />
      {sub.data && !sub.data.pull ? <p class="note error">{id} is a webhook subscription: it has no stream. Its deliveries are under Events and Dead letters.</p> : null}
      {sub.data?.stream ? (
        <p class="muted">
          Newest cursor when the page opened: {sub.data.stream.headCursor}; acknowledged by its readers: {sub.data.stream.ackedCursor ?? 'none yet'}. This view shows what comes after the
          acknowledged cursor and acknowledges nothing.
        </p>
      ) : null}
      {!sub.data && !sub.error ? <Loading /> : null}
      {events.length === 0 ? (
        <Empty>Nothing in the stream yet. New events matching this subscription appear here as they are stored.</Empty>
      ) : (
        <Table head={['Cursor', 'Received', 'Channel', 'Sender', 'Text']}>
          {events.map(({ cursor, event }) => (
            <tr key={cursor} data-cursor={cursor}>
              <td>{cursor}</td>
              <td>
                <a href={href(['events', event.id])}>
                  <Time iso={event.receivedAt} />
                </a>
              </td>
              <td>{event.channel}</td>
              <td class="wrap">{who(event.sender)}</td>
              <td class="wrap text-cell">{event.message.text ?? <span class="muted">({event.type})</span>}</td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}
