import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError } from './api.ts';
import { when } from './format.ts';

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  reload: () => void;
}

/** Loads `load()` when the page opens and whenever `deps` change; `reload` loads again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error }>({});
  const [round, setRound] = useState(0);
  // `deps` are the caller's: what `load` reads.
  useEffect(() => {
    let live = true;
    load().then(
      (data) => live && setState({ data }),
      (error: Error) => live && setState({ error }),
    );
    return () => {
      live = false;
    };
  }, [...deps, round]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  return { data: state.data, error: state.error, reload };
}

/** A page that shows one load: its title with a Refresh button, then the load's error or "Loading". */
export function LoadedHead<T>({ title, loaded }: { title: string; loaded: Loaded<T> }) {
  return (
    <>
      <header class="page-head">
        <h1>{title}</h1>
        <button type="button" onClick={loaded.reload}>
          Refresh
        </button>
      </header>
      <ErrorNote error={loaded.error} />
      {!loaded.data && !loaded.error ? <Loading /> : null}
    </>
  );
}

export function ErrorNote({ error }: { error: Error | undefined }) {
  if (!error) return null;
  return (
    <p class="note error" role="alert">
      {error instanceof ApiError ? <code>{error.code}</code> : null} {error.message}
    </p>
  );
}

export function Notice({ children }: { children: ComponentChildren }) {
  return (
    <p class="note ok" role="status">
      {children}
    </p>
  );
}

export function Loading() {
  return <p class="muted">Loading…</p>;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

export function Time({ iso }: { iso: string | null | undefined }) {
  return <time title={iso ?? undefined}>{when(iso)}</time>;
}

export function Badge({ kind, children }: { kind: string; children: ComponentChildren }) {
  return <span class={`badge badge-${kind}`}>{children}</span>;
}

export function Table({ head, children }: { head: string[]; children: ComponentChildren }) {
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            {head.map((title) => (
              <th key={title}>{title}</th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

export function deliveryBadge(status: string) {
  const kind = status === 'succeeded' ? 'good' : status === 'dead' ? 'bad' : 'wait';
  return <Badge kind={kind}>{status.replace('_', ' ')}</Badge>;
}
