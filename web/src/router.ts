import { useEffect, useState } from 'preact/hooks';

// Pages live in the URL's fragment (`#/events?text=hi`): the gateway serves one page at /console/, and
// a reload or a shared link opens the same view. Nothing secret ever goes there.

export interface Route {
  /** The path's segments: `#/events/evt_1` is ['events', 'evt_1']. */
  parts: string[];
  params: URLSearchParams;
}

function current(): Route {
  const [path = '', search = ''] = location.hash.replace(/^#/, '').split('?', 2);
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(search) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const changed = (): void => setRoute(current());
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return route;
}

/** The fragment link to a page: `href('events', id)`, with query values left out when empty. */
export function href(parts: string[], params: Record<string, string | undefined> = {}): string {
  const search = new URLSearchParams(Object.entries(params).filter((entry): entry is [string, string] => Boolean(entry[1]))).toString();
  return `#/${parts.map(encodeURIComponent).join('/')}${search ? `?${search}` : ''}`;
}

export function go(parts: string[], params: Record<string, string | undefined> = {}): void {
  location.hash = href(parts, params);
}
