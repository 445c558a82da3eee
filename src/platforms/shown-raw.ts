import { findPlatform } from './registry.ts';

/** A stored payload as it may be shown outside imgate (API answers, `includeRaw` deliveries). */
export function shownRaw(platform: string, raw: unknown): unknown {
  const redact = findPlatform(platform)?.redactRaw;
  return redact ? redact(raw) : raw;
}
