/** A time as the operator reads it: local, to the second (the ISO form in the element's title). */
export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** A person or a conversation: the name when the platform gave one, the id otherwise. */
export function who(party: { id: string; name: string | null }): string {
  return party.name ? `${party.name} (${party.id})` : party.id;
}
