/**
 * Event-time parsing and UTC calendar helpers for the hot path. Hand-rolled instead of
 * `Date.parse`, which accepts zone-less strings (read as local time) and many non-ISO forms.
 */

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const DASH = 45;
const COLON = 58;

function digits(s: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/**
 * The minute part (`YYYY-MM-DDTHH:MM`) of the last valid timestamp parsed with a year of 100 or
 * later, and its epoch ms at UTC; '' before the first.
 */
let lastMinute = '';
let lastMinuteMs = 0;

/**
 * Parses an ISO-8601 date-time WITH a zone into epoch milliseconds:
 * `YYYY-MM-DDTHH:MM[:SS[.fraction]](Z|±HH:MM|±HHMM)`; `t`/`z` and a space separator are accepted.
 * Fractions beyond milliseconds are truncated. Returns `undefined` for anything else (including a
 * missing zone, impossible dates such as Feb 30, and leap seconds).
 * @param from, to the text is `s.slice(from, to)`: the validator's scanner parses a timestamp in
 *   place, inside the record text, without making a string of it
 */
export function parseIsoTimestamp(s: string, from = 0, to = s.length): number | undefined {
  const len = to - from;
  if (len < 17 || len > 40) return undefined;
  const o = from;
  let year = 0;
  let month = 0;
  let day = 0;
  let hour = 0;
  let minute = 0;
  // The minute part, `YYYY-MM-DDTHH:MM`, is the same as the previous call's in a stream in event
  // time order: one `startsWith` then stands for parsing and checking it.
  let minuteMs: number;
  if (lastMinute !== '' && s.startsWith(lastMinute, o)) minuteMs = lastMinuteMs;
  else {
    year = digits(s, o, 4);
    month = digits(s, o + 5, 2);
    day = digits(s, o + 8, 2);
    hour = digits(s, o + 11, 2);
    minute = digits(s, o + 14, 2);
    if (
      year < 0 ||
      month < 1 ||
      month > 12 ||
      day < 1 ||
      hour < 0 ||
      hour > 23 ||
      minute < 0 ||
      minute > 59
    ) {
      return undefined;
    }
    if (s.charCodeAt(o + 4) !== DASH || s.charCodeAt(o + 7) !== DASH || s.charCodeAt(o + 13) !== COLON)
      return undefined;
    const sep = s.charCodeAt(o + 10);
    if (sep !== 84 /* T */ && sep !== 116 /* t */ && sep !== 32 /* space */) return undefined;
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    const maxDay = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
    if (day > maxDay) return undefined;
    // Date.UTC reads years 0-99 as 1900-1999: that (rare) case stays on Date.UTC, below, uncached.
    if (year < 100) minuteMs = Number.NaN;
    else {
      minuteMs = epochDay(year, month, day) * DAY_MS + hour * HOUR_MS + minute * 60_000;
      // A copy, not a slice that would keep the whole record text alive.
      lastMinute = JSON.parse(JSON.stringify(s.slice(o, o + 16))) as string;
      lastMinuteMs = minuteMs;
    }
  }
  let i = o + 16;
  let second = 0;
  let millis = 0;
  if (i < to && s.charCodeAt(i) === COLON) {
    if (i + 3 > to) return undefined;
    second = digits(s, i + 1, 2);
    if (second < 0 || second > 59) return undefined;
    i += 3;
    const f = i < to ? s.charCodeAt(i) : -1;
    if (f === 46 /* . */ || f === 44 /* , */) {
      i++;
      const start = i;
      let scale = 100;
      while (i < to) {
        const c = s.charCodeAt(i) - 48;
        if (c < 0 || c > 9) break;
        millis += c * scale;
        scale /= 10;
        i++;
      }
      if (i === start || i - start > 9) return undefined;
      millis = Math.floor(millis);
    }
  }
  let offsetMin = 0;
  const z = i < to ? s.charCodeAt(i) : -1;
  if (z === 90 /* Z */ || z === 122 /* z */) {
    if (i + 1 !== to) return undefined;
  } else if (z === 43 /* + */ || z === DASH) {
    if (i + 5 > to) return undefined;
    const oh = digits(s, i + 1, 2);
    let om: number;
    if (s.charCodeAt(i + 3) === COLON) {
      om = digits(s, i + 4, 2);
      if (i + 6 !== to) return undefined;
    } else {
      om = digits(s, i + 3, 2);
      if (i + 5 !== to) return undefined;
    }
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return undefined;
    offsetMin = (oh * 60 + om) * (z === 43 ? 1 : -1);
  } else {
    return undefined;
  }
  if (Number.isNaN(minuteMs))
    return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMin * 60_000;
  return minuteMs + second * 1000 + millis - offsetMin * 60_000;
}

let lastCivil = -1;
let lastEpochDay = 0;

/** Days since the epoch of a valid civil date (H. Hinnant's days_from_civil), memoized for the last date. */
function epochDay(year: number, month: number, day: number): number {
  const civil = (year * 100 + month) * 100 + day;
  if (civil === lastCivil) return lastEpochDay;
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  lastCivil = civil;
  lastEpochDay = era * 146097 + doe - 719468;
  return lastEpochDay;
}

/** Days since the epoch to a civil date (proleptic Gregorian), H. Hinnant's algorithm. */
function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

const dateCache = new Map<number, string>();

let lastDay = Number.NaN;
let lastDate = '';

/** The UTC calendar date `YYYY-MM-DD` of an epoch-ms instant (cached per day: it is on the hot path). */
export function utcDate(ms: number): string {
  const days = Math.floor(ms / DAY_MS);
  if (days === lastDay) return lastDate;
  let text = dateCache.get(days);
  if (text === undefined) {
    const [y, m, d] = civilFromDays(days);
    text = `${String(y).padStart(4, '0')}-${m < 10 ? '0' : ''}${m}-${d < 10 ? '0' : ''}${d}`;
    if (dateCache.size > 4096) dateCache.clear();
    dateCache.set(days, text);
  }
  lastDay = days;
  lastDate = text;
  return text;
}

/** The UTC hour of day (0..23) of an epoch-ms instant. */
export function utcHour(ms: number): number {
  const inDay = ms - Math.floor(ms / DAY_MS) * DAY_MS;
  return Math.floor(inDay / HOUR_MS);
}

const TWO = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const THREE = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
/** 0000-01-01T00:00:00.000Z and 10000-01-01T00:00:00.000Z: toISOString's 4-digit-year range. */
const YEAR_0_MS = -62_167_219_200_000;
const YEAR_10000_MS = 253_402_300_800_000;

/**
 * `new Date(ms).toISOString()` without a Date: the date part comes from the per-day cache of
 * {@link utcDate}. Outside years 0000-9999 (extended years) it defers to Date, errors included.
 */
export function isoString(ms: number): string {
  if (!(ms >= YEAR_0_MS && ms < YEAR_10000_MS) || !Number.isInteger(ms)) return new Date(ms).toISOString();
  const inDay = ms - Math.floor(ms / DAY_MS) * DAY_MS;
  const h = Math.floor(inDay / HOUR_MS);
  const rest = inDay - h * HOUR_MS;
  const m = Math.floor(rest / 60_000);
  const s = Math.floor((rest - m * 60_000) / 1000);
  return `${utcDate(ms)}T${TWO[h]}:${TWO[m]}:${TWO[s]}.${THREE[rest % 1000]}Z`;
}
