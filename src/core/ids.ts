import { randomBytes } from 'node:crypto';

/**
 * Ids that sort by creation time: prefix, 9 base-36 characters of milliseconds, 12 random hex
 * characters. Sorting by id is then sorting by time, which the list routes rely on for paging.
 */
export function newId(prefix: 'evt' | 'msg' | 'dlv' | 'sub' | 'att' | 'out'): string {
  return `${prefix}_${Date.now().toString(36).padStart(9, '0')}${randomBytes(6).toString('hex')}`;
}
