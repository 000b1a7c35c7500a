import { InvalidArgumentError } from 'commander';

/** Commander argument parsers shared by the commands; each rejects a bad value with the value in the message. */

/** A whole number of events; `1_000_000` is accepted. */
export function parseCount(text: string): number {
  const n = Number(text.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 0)
    throw new InvalidArgumentError(`expected a whole number of events, got "${text}"`);
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
