/**
 * A callback as a platform would send it to the gateway, built from a channel's config by the
 * platforms' `build…Sample` functions: for `imgate simulate`, tests and benchmarks.
 */
export interface CallbackSample {
  /** `/hooks/<id>…`, with whatever path token or query string the platform adds. */
  path: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
}
