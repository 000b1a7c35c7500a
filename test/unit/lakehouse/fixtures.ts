import { type LayerSchemas, layerSchemas, loadDomain } from '../../../functions/core/index.ts';
import type { Row, TableSchema } from '../../../functions/core/model.ts';

/** The payments domain's lakehouse tables (SPEC §2), from the core. */
export const PAYMENTS: LayerSchemas = layerSchemas(loadDomain('payments'));
export const SILVER_EVENTS: TableSchema = PAYMENTS.silver;

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const TYPES = ['transaction', 'transaction', 'transaction', 'login', 'page_view'] as const;
const CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY'] as const;
const COUNTRIES = ['US', 'DE', 'FR', 'GB', 'JP', null] as const;
const DEVICES = ['ios', 'android', 'web', null] as const;

function pick<T>(rnd: () => number, items: readonly T[]): T {
  return items[Math.floor(rnd() * items.length)]!;
}

/** `n` silver `events` rows of the SPEC §2 shape, one a few hundred ms after the other from `startMs`. */
export function silverEventRows(n: number, seed = 1, startMs = Date.UTC(2026, 0, 15, 10, 0, 0)): Row[] {
  const rnd = random(seed);
  const rows: Row[] = new Array(n);
  let ts = startMs;
  for (let i = 0; i < n; i++) {
    ts += Math.floor(rnd() * 400);
    const type = pick(rnd, TYPES);
    const isTx = type === 'transaction';
    const located = rnd() < 0.7;
    const amount = isTx ? Math.round(rnd() * 50_000) / 100 : null;
    const currency = isTx ? pick(rnd, CURRENCIES) : 'USD';
    const d = new Date(ts);
    rows[i] = {
      event_id: `evt-${seed}-${i.toString().padStart(8, '0')}`,
      event_type: type,
      user_id: `user-${Math.floor(rnd() * 5000)}`,
      ts,
      amount,
      currency,
      merchant_id: isTx ? `merchant-${Math.floor(rnd() * 300)}` : null,
      lat: located ? Math.round((rnd() * 180 - 90) * 1e4) / 1e4 : null,
      lon: located ? Math.round((rnd() * 360 - 180) * 1e4) / 1e4 : null,
      device: pick(rnd, DEVICES),
      event_date: d.toISOString().slice(0, 10),
      event_hour: d.getUTCHours(),
      amount_usd:
        amount === null
          ? null
          : Math.round(amount * (currency === 'JPY' ? 0.0067 : currency === 'USD' ? 1 : 1.1) * 100) / 100,
      country: located ? pick(rnd, COUNTRIES) : null,
    };
  }
  return rows;
}
