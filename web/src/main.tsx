import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, forgetToken, saveToken, savedToken, whenTokenRefused } from './api.ts';
import { ChannelsPage } from './pages/channels.tsx';
import { ClusterPage } from './pages/cluster.tsx';
import { DeadLettersPage } from './pages/dead-letters.tsx';
import { DeliveryPage } from './pages/delivery.tsx';
import { EventPage } from './pages/event.tsx';
import { EventsPage } from './pages/events.tsx';
import { LivePage } from './pages/live.tsx';
import { SubscriptionFormPage } from './pages/subscription-form.tsx';
import { SubscriptionsPage } from './pages/subscriptions.tsx';
import { href, useRoute, type Route } from './router.ts';

const SECTIONS = [
  ['channels', 'Channels'],
  ['events', 'Events'],
  ['dead', 'Dead letters'],
  ['subscriptions', 'Subscriptions'],
  ['cluster', 'Cluster'],
] as const;

/** What the gateway's refusal means for the operator, in words (docs/errors.md). */
function refusal(error: ApiError): string {
  if (error.code === 'IMG_ERR_AUTH_ADMIN_ONLY') return 'This is an API key, not the admin token. The console needs admin.token from the config.';
  if (error.code === 'IMG_ERR_AUTH_INVALID') return 'The gateway does not know this token. Type admin.token from its config.';
  return `The gateway refused the token: ${error.message}`;
}

function TokenForm({ problem, onToken }: { problem: string | undefined; onToken: (token: string) => void }) {
  const [token, setToken] = useState('');
  const [checking, setChecking] = useState(false);
  const [error, setError] = useState(problem);

  async function submit(): Promise<void> {
    setChecking(true);
    try {
      // Any admin route tells a good token from a bad one; the channels are what the console opens on.
      await api('GET', '/v1/channels', undefined, token);
      onToken(token);
    } catch (failed) {
      setError(failed instanceof ApiError && failed.isAuth ? refusal(failed) : `The gateway could not be asked: ${(failed as Error).message}`);
    } finally {
      setChecking(false);
    }
  }

  return (
    <main class="login">
      <form
        onSubmit={(submitted) => {
          submitted.preventDefault();
          void submit();
        }}
      >
        <h1>imgate console</h1>
        <p class="muted">The admin token (admin.token in the gateway's config). It is kept in this tab only, until you close it or sign out.</p>
        {error ? (
          <p class="note error" role="alert">
            {error}
          </p>
        ) : null}
        <label>
          Admin token
          <input type="password" name="token" autocomplete="current-password" required value={token} onInput={(typed) => setToken(typed.currentTarget.value)} />
        </label>
        <button type="submit" class="primary" disabled={checking || token === ''}>
          {checking ? 'Checking…' : 'Open the console'}
        </button>
      </form>
    </main>
  );
}

function Page({ route }: { route: Route }) {
  const [section, id, action] = route.parts;
  switch (section) {
    case 'events':
      return id ? <EventPage id={id} /> : <EventsPage route={route} />;
    case 'deliveries':
      return id ? <DeliveryPage id={id} /> : <DeadLettersPage route={route} />;
    case 'dead':
      return <DeadLettersPage route={route} />;
    case 'subscriptions':
      if (id === 'new') return <SubscriptionFormPage />;
      if (id && action === 'edit') return <SubscriptionFormPage id={id} />;
      if (id && action === 'live') return <LivePage id={id} />;
      return <SubscriptionsPage />;
    case 'cluster':
      return <ClusterPage />;
    default:
      return <ChannelsPage />;
  }
}

function App() {
  const route = useRoute();
  const [token, setToken] = useState(savedToken);
  const [problem, setProblem] = useState<string>();

  useEffect(
    () =>
      whenTokenRefused((error) => {
        forgetToken();
        setProblem(refusal(error));
        setToken(null);
      }),
    [],
  );

  if (!token) {
    return (
      <TokenForm
        problem={problem}
        onToken={(typed) => {
          saveToken(typed);
          setProblem(undefined);
          setToken(typed);
        }}
      />
    );
  }
  const current = route.parts[0] === 'deliveries' ? 'events' : (route.parts[0] ?? 'channels');
  return (
    <>
      <header class="top">
        <a class="brand" href={href(['channels'])}>
          imgate
        </a>
        <nav>
          {SECTIONS.map(([section, title]) => (
            <a key={section} href={href([section])} class={current === section ? 'current' : undefined} aria-current={current === section ? 'page' : undefined}>
              {title}
            </a>
          ))}
        </nav>
        <button
          type="button"
          class="quiet"
          onClick={() => {
            forgetToken();
            setToken(null);
          }}
        >
          Sign out
        </button>
      </header>
      <main>
        <Page route={route} />
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
