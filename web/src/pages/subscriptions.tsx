import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { href } from '../router.ts';
import type { Subscription } from '../types.ts';
import { Badge, Empty, ErrorNote, Loading, Notice, Table, useLoad } from '../ui.tsx';

interface TestResult {
  eventId: string;
  deliveryId: string | null;
  attempt: { statusCode: number | null; error: string | null } | null;
}

function testOutcome(id: string, result: TestResult) {
  if (result.deliveryId === null) return <>Test event {result.eventId} joined the stream of {id}.</>;
  const { attempt } = result;
  const answer = attempt === null ? 'queued' : attempt.statusCode === null ? `no answer: ${attempt.error ?? ''}` : `answered HTTP ${attempt.statusCode}`;
  return (
    <>
      Test delivery to {id}: {answer}. <a href={href(['deliveries', result.deliveryId])}>Attempt log</a>
    </>
  );
}

/** `GET /v1/subscriptions`, with enable/disable (`PATCH`) and a test (`POST …/test`) per row. */
export function SubscriptionsPage() {
  const { data, error, reload } = useLoad(() => api<{ data: Subscription[] }>('GET', '/v1/subscriptions'), []);
  const [outcome, setOutcome] = useState<{ done?: ComponentChildren; error?: Error }>({});

  async function run(what: () => Promise<ComponentChildren>): Promise<void> {
    try {
      setOutcome({ done: await what() });
    } catch (failed) {
      setOutcome({ error: failed as Error });
    }
    reload();
  }

  const toggle = (sub: Subscription) =>
    run(async () => {
      await api('PATCH', `/v1/subscriptions/${encodeURIComponent(sub.id)}`, { enabled: !sub.enabled });
      return `${sub.id} is ${sub.enabled ? 'disabled' : 'enabled'}.`;
    });
  const test = (sub: Subscription) => run(async () => testOutcome(sub.id, await api<TestResult>('POST', `/v1/subscriptions/${encodeURIComponent(sub.id)}/test`)));

  return (
    <section>
      <header class="page-head">
        <h1>Subscriptions</h1>
        <a class="button primary" href={href(['subscriptions', 'new'])}>
          New subscription
        </a>
      </header>
      {outcome.done ? <Notice>{outcome.done}</Notice> : null}
      <ErrorNote error={outcome.error ?? error} />
      {!data && !error ? <Loading /> : null}
      {data && data.data.length === 0 ? <Empty>No subscription yet: events are stored, but go nowhere. Create one to deliver them.</Empty> : null}
      {data && data.data.length > 0 ? (
        <Table head={['Subscription', 'Delivers to', 'Channels', 'State', 'Source', '']}>
          {data.data.map((sub) => (
            <tr key={sub.id} data-subscription={sub.id}>
              <td>
                <code>{sub.id}</code>
              </td>
              <td class="wrap">{sub.pull ? <Badge kind="neutral">pull stream</Badge> : sub.url}</td>
              <td class="wrap">{sub.channels ? sub.channels.join(', ') : <span class="muted">all</span>}</td>
              <td>{sub.enabled ? <Badge kind="good">enabled</Badge> : <Badge kind="bad">disabled</Badge>}</td>
              <td>{sub.source === 'api' ? 'API' : sub.source === 'config' ? 'config file' : 'WXKF puppet'}</td>
              <td class="row-actions">
                <button type="button" onClick={() => void test(sub)}>
                  Send a test
                </button>
                {sub.pull ? <a href={href(['subscriptions', sub.id, 'live'])}>Live view</a> : null}
                {sub.source === 'api' ? (
                  <>
                    <a href={href(['subscriptions', sub.id, 'edit'])}>Edit</a>
                    <button type="button" onClick={() => void toggle(sub)}>
                      {sub.enabled ? 'Disable' : 'Enable'}
                    </button>
                  </>
                ) : null}
              </td>
            </tr>
          ))}
        </Table>
      ) : null}
      {data?.data.some((sub) => sub.source !== 'api') ? (
        <p class="muted">Subscriptions from the config file (and registered WXKF puppets) are changed where they come from, not here.</p>
      ) : null}
    </section>
  );
}
