// The console's only way to the gateway: the `/v1` API with the admin token the operator typed in.
// The token lives in sessionStorage (gone with the tab, never in a URL or a cookie).

const TOKEN_KEY = 'imgate.adminToken';

export function savedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function saveToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** An answer other than 2xx, with the gateway's error code and message (docs/errors.md). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** The token is missing, wrong, or not the admin token: the operator has to type another. */
  get isAuth(): boolean {
    return this.code.startsWith('IMG_ERR_AUTH_');
  }
}

let onAuthFailure: (error: ApiError) => void = () => undefined;

/** Called whenever the gateway refuses the token, so that the app can ask for another. */
export function whenTokenRefused(handler: (error: ApiError) => void): void {
  onAuthFailure = handler;
}

export function authHeaders(token = savedToken()): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** The error a refusal carries; a refused token also goes to the `whenTokenRefused` handler. */
export async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text();
  let error: ApiError;
  try {
    const { error: body } = JSON.parse(text) as { error: { code: string; message: string } };
    error = new ApiError(response.status, body.code, body.message);
  } catch {
    error = new ApiError(response.status, `HTTP_${response.status}`, text.slice(0, 200) || response.statusText);
  }
  if (error.isAuth) onAuthFailure(error);
  return error;
}

export async function api<T>(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, body?: unknown, token?: string): Promise<T> {
  const headers = authHeaders(token);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) throw await errorOf(response);
  return (response.status === 204 ? undefined : await response.json()) as T;
}

/** A query string of the given values, leaving out empty ones. */
export function query(values: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== undefined && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}
