const DAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const LONG_DAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The three forms of RFC 9110 §5.6.7, case-sensitive as its grammar is. */
const HTTP_DATE_FORMS: { pattern: RegExp; dayNames: readonly string[]; year: (digits: string, now: number) => number }[] = [
  // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
  {
    pattern: /^(?<day>[A-Z][a-z]{2}), (?<date>\d{2}) (?<month>[A-Z][a-z]{2}) (?<year>\d{4}) (?<time>\d{2}:\d{2}:\d{2}) GMT$/,
    dayNames: DAY_NAMES,
    year: Number,
  },
  // RFC 850 (obsolete): Sunday, 06-Nov-94 08:49:37 GMT
  {
    pattern: /^(?<day>[A-Z][a-z]+), (?<date>\d{2})-(?<month>[A-Z][a-z]{2})-(?<year>\d{2}) (?<time>\d{2}:\d{2}:\d{2}) GMT$/,
    dayNames: LONG_DAY_NAMES,
    year: (digits, now) => fullYear(Number(digits), now),
  },
  // asctime (obsolete, no zone: GMT): Sun Nov  6 08:49:37 1994
  {
    pattern: /^(?<day>[A-Z][a-z]{2}) (?<month>[A-Z][a-z]{2}) (?<date>[ \d]\d) (?<time>\d{2}:\d{2}:\d{2}) (?<year>\d{4})$/,
    dayNames: DAY_NAMES,
    year: Number,
  },
];

/**
 * Written by hand: Node has no HTTP-date parser of its own, and `Date.parse`, the usual stand-in,
 * takes almost anything ("-1", "foo 12") as a date, which is how a malformed Retry-After used to
 * collapse a retry schedule.
 *
 * An HTTP-date (RFC 9110 §5.6.7) as epoch milliseconds: IMF-fixdate, or the obsolete RFC 850 and
 * asctime forms. Null for anything else, including dates that do not exist (31 Feb).
 */
export function parseHttpDate(value: string, now: number): number | null {
  for (const form of HTTP_DATE_FORMS) {
    const parts = form.pattern.exec(value)?.groups;
    if (!parts) continue;
    if (!form.dayNames.includes(parts.day ?? '')) return null;
    const [hour, minute, second] = (parts.time ?? '').split(':').map(Number) as [number, number, number];
    return toEpoch(form.year(parts.year ?? '', now), MONTHS.indexOf(parts.month ?? ''), Number(parts.date), hour, minute, second);
  }
  return null;
}

/**
 * RFC 9110 §5.6.7: a two-digit year that would be more than 50 years in the future is the most
 * recent past year with the same last two digits.
 */
function fullYear(twoDigits: number, now: number): number {
  const thisYear = new Date(now).getUTCFullYear();
  const year = thisYear - (thisYear % 100) + twoDigits;
  return year > thisYear + 50 ? year - 100 : year;
}

function toEpoch(year: number, month: number, day: number, hour: number, minute: number, second: number): number | null {
  // setUTCFullYear, not Date.UTC, which reads years 0-99 as 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month + 1, 0);
  const daysInMonth = date.getUTCDate();
  // 60 is a leap second (RFC 9110 §5.6.7); setUTCHours carries it into the next minute.
  if (month < 0 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 60) return null;
  date.setUTCFullYear(year, month, day);
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime();
}
