import { InvalidArgumentError } from 'commander';

/** Commander argument parsers shared by the commands; each rejects a bad value with the value in the message. */

/**
 * A whole number written as people write counts: `200000`, `200_000`, `200k`, `1m` (the one count
 * syntax of every command). Undefined when the text is not one.
 */
export function countOf(text: string): number | undefined {
  const m = /^(\d[\d_]*)(k|m)?$/i.exec(text.trim());
  if (!m) return undefined;
  const base = Number(m[1]!.replaceAll('_', ''));
  const n = base * (m[2] === undefined ? 1 : m[2].toLowerCase() === 'k' ? 1_000 : 1_000_000);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A whole number of events (see {@link countOf}: `200k` and `1_000_000` are accepted). */
export function parseCount(text: string): number {
  const n = countOf(text);
  if (n === undefined)
    throw new InvalidArgumentError(`expected a whole number of events like 20000 or 200k, got "${text}"`);
  return n;
}

/** A share between 0 and 1 (poison and duplicate rates). */
export function parseRate(text: string): number {
  const r = Number(text);
  if (!Number.isFinite(r) || r < 0 || r > 1)
    throw new InvalidArgumentError(`expected a share between 0 and 1, e.g. 0.01, got "${text}"`);
  return r;
}

/** A generator seed. */
export function parseSeed(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`expected an integer seed, got "${text}"`);
  return n;
}
