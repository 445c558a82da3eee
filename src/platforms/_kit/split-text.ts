const FENCE = '```';
/** Room kept in every part for a closing fence, so a split never needs more than the limit. */
const CLOSING_FENCE = `\n${FENCE}`;

/**
 * Splits a message's text (plain, markdown — Discord's, Telegram's MarkdownV2 — or Slack's mrkdwn, which
 * all fence code with ```) into parts
 * of at most `max` characters (as JavaScript counts them), for platforms that cap a message's
 * length. Each is cut at the last line break in the second half of the part, else at the last space
 * there, else hard (never inside a surrogate pair). A code block that a cut leaves open is closed at the end of its part and opened
 * again, with its language, at the start of the next, so each message still renders.
 */
export function splitMessageText(text: string, max: number): string[] {
  const parts: string[] = [];
  let rest = text;
  let reopen = '';
  while (reopen.length + rest.length > max) {
    const cut = cutPoint(rest, max - reopen.length - CLOSING_FENCE.length);
    let part = reopen + rest.slice(0, cut.end);
    rest = rest.slice(cut.next);
    const open = unclosedFence(part);
    if (open === null) {
      reopen = '';
    } else {
      part += CLOSING_FENCE;
      reopen = `${open}\n`;
    }
    parts.push(part);
  }
  if (rest.length > 0) parts.push(reopen + rest);
  return parts;
}

/** Where to cut `text` so that its first part is at most `budget` long, and where the next part starts. */
function cutPoint(text: string, budget: number): { end: number; next: number } {
  const half = Math.floor(budget / 2);
  const newline = text.lastIndexOf('\n', budget);
  if (newline >= half) return { end: newline, next: newline + 1 };
  for (let i = budget; i >= half; i -= 1) {
    if (text[i] === ' ' || text[i] === '\t') return { end: i, next: i + 1 };
  }
  const code = text.charCodeAt(budget - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? budget - 1 : budget;
  return { end, next: end };
}

/** The fence line (```` ```lang ````) of a code block `text` leaves open, else null. */
function unclosedFence(text: string): string | null {
  let open: string | null = null;
  for (const line of text.split('\n')) {
    const trimmed = line.trimStart();
    if (!trimmed.startsWith(FENCE)) continue;
    open = open === null ? trimmed : null;
  }
  return open;
}
