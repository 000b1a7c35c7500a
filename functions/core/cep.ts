/**
 * Complex event processing per key (SPEC §4), in arrival order within a partition. Five patterns:
 *
 * | pattern | fires when | severity |
 * | --- | --- | --- |
 * | velocity_spike | more than N transactions with ts in (t - W, t] (crossing) | HIGH |
 * | amount_anomaly | >= min_history earlier transactions, sample sigma > 0, amount > mean + k sigma (Welford) | HIGH beyond high_sigma, else MEDIUM |
 * | impossible_travel | two consecutive located events > D km apart at > S km/h (equal ts = infinite speed) | CRITICAL |
 * | rapid_fire_burst | at least N transactions with ts in (t - W, t] (crossing) | HIGH |
 * | merchant_diversity | at least N distinct merchants among transactions with ts in (t - W, t] (crossing) | MEDIUM |
 *
 * "Crossing": the alert fires on the transaction at which the condition is true while the
 * pattern is armed; the pattern re-arms for that key only at a transaction where the condition
 * is false. Counts include the current transaction and every transaction of the key processed
 * so far whose ts is in range (out-of-order ones included). Speed uses |delta t| between the two
 * consecutive located events (arrival order), so an out-of-order pair still measures a speed.
 * amount_anomaly ignores transactions without an amount; every amount joins the statistics after
 * the test. Alert ids are `<pattern>:<event id>`: a redelivered event yields the same alert.
 *
 * Bounded state (the SPEC leaves the exact bound open): a key keeps the ts (and merchant) of
 * transactions newer than `max ts of its transactions - max_out_of_orderness - longest window`,
 * at most `max_transactions_per_key` of them (newest by ts), the Welford triple and its last
 * located event. Counts are exact for any transaction no more than max_out_of_orderness older
 * than the key's newest one; an older one is evaluated against what is still remembered.
 * The state `expiresAt` = newest event ts of the key + longest pattern window + state_ttl_margin
 * (epoch ms; DynamoDB TTL wants seconds: `Math.ceil(expiresAt / 1000)`).
 */
import type { CepSpec, Domain } from './domain.ts';
import { haversineKm } from './geo.ts';
import type { Row } from './model.ts';
import type { SilverEvent } from './validate.ts';

export type CepPattern =
  | 'velocity_spike'
  | 'amount_anomaly'
  | 'impossible_travel'
  | 'rapid_fire_burst'
  | 'merchant_diversity';
export type Severity = 'MEDIUM' | 'HIGH' | 'CRITICAL';

/** Serializable per-key CEP state (on AWS, part of the partition's state, saved in its deltas). */
export interface CepKeyState {
  /** ts of remembered transactions, ascending. */
  tx: number[];
  /** Merchant of each remembered transaction (parallel to `tx`), null when absent or not tracked. */
  m: Array<string | null>;
  /** Largest transaction ts seen (-1 when none). */
  maxTxTs: number;
  /** Welford: number of amounts, running mean, sum of squared deviations. */
  n: number;
  mean: number;
  m2: number;
  /** Last located event in arrival order: [ts, lat, lon, event id]. */
  loc: [number, number, number, string] | null;
  /** Bit set of crossing patterns that fired and are not re-armed: 1 velocity_spike, 2 rapid_fire_burst, 4 merchant_diversity. */
  fired: number;
  /** Largest event ts seen for the key. */
  maxTs: number;
  /** Epoch ms after which the state may be deleted. */
  expiresAt: number;
}

/** Serializable state of a whole {@link CepEngine}. */
export interface CepState {
  readonly version: 1;
  readonly keys: Record<string, CepKeyState>;
  /**
   * Newest event ts applied to the partition, when the keys are kept elsewhere (one item per key:
   * `KeyStateStore`): a stored key state whose `expiresAt` is at or before it has expired.
   */
  readonly maxTs?: number;
}

/** A compiled CEP configuration for one domain. */
export interface CepConfig {
  readonly spec: CepSpec;
  readonly keyField: string;
  readonly idField: string;
  readonly oooMs: number;
  /** Longest transaction-count window (0 when none). */
  readonly horizonMs: number;
  /** Lifetime of a key's state after its newest event. */
  readonly ttlMs: number;
}

const VELOCITY = 1;
const BURST = 2;
const DIVERSITY = 4;

/** Compiles the CEP section of a domain; null when the domain has none. */
export function cepConfig(domain: Domain): CepConfig | null {
  const spec = domain.cep;
  if (spec === null) return null;
  const p = spec.patterns;
  const horizonMs = Math.max(
    0,
    p.velocitySpike?.windowMs ?? 0,
    p.rapidFireBurst?.windowMs ?? 0,
    p.merchantDiversity?.windowMs ?? 0,
  );
  return {
    spec,
    keyField: domain.keyField,
    idField: domain.dedupField,
    oooMs: domain.maxOutOfOrdernessMs,
    horizonMs,
    ttlMs: horizonMs + spec.stateTtlMarginMs,
  };
}

/**
 * A deep copy of a key state (snapshots and restores: a hundred thousand keys per checkpoint,
 * where `structuredClone` measured several times slower). Typed field by field, so a new field
 * of {@link CepKeyState} fails to compile here until it is copied.
 */
export function copyCepKeyState(s: CepKeyState): CepKeyState {
  const loc = s.loc;
  return {
    tx: s.tx.slice(),
    m: s.m.slice(),
    maxTxTs: s.maxTxTs,
    n: s.n,
    mean: s.mean,
    m2: s.m2,
    loc: loc === null ? null : [loc[0], loc[1], loc[2], loc[3]],
    fired: s.fired,
    maxTs: s.maxTs,
    expiresAt: s.expiresAt,
  };
}

/** A fresh, empty key state. */
export function emptyCepKeyState(): CepKeyState {
  return {
    tx: [],
    m: [],
    maxTxTs: -1,
    n: 0,
    mean: 0,
    m2: 0,
    loc: null,
    fired: 0,
    maxTs: Number.MIN_SAFE_INTEGER,
    expiresAt: 0,
  };
}

/** What most events return: no alert (shared, never mutated, so no array per event). */
const NO_ALERTS: Row[] = [];
Object.freeze(NO_ALERTS);

/** `list` with `a` appended (a new array on the first alert of an event). */
function withAlert(list: Row[] | null, a: Row): Row[] {
  if (list === null) return [a];
  list.push(a);
  return list;
}

/** Scratch set for merchant_diversity (cleared before and after each use). */
const SEEN = new Set<string>();

/** Index of the first element > x in ascending `a`. */
function upperBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function alert(
  cfg: CepConfig,
  pattern: CepPattern,
  severity: Severity,
  e: SilverEvent,
  details: Record<string, unknown>,
): Row {
  return {
    alert_id: `${pattern}:${e.id}`,
    pattern,
    severity,
    [cfg.keyField]: e.key,
    [cfg.idField]: e.id,
    ts: e.ts,
    details: JSON.stringify(details),
  };
}

/**
 * Applies one event to a key's state (mutating it) and returns the alerts it triggers, as
 * `gold/alerts` rows. `state` must belong to `event.key`. The array returned when there is no
 * alert is shared and frozen: read it, do not push into it.
 */
export function cepStep(cfg: CepConfig, state: CepKeyState, e: SilverEvent): readonly Row[] {
  const spec = cfg.spec;
  const p = spec.patterns;
  const row = e.row;
  const ts = e.ts;
  let alerts: Row[] | null = null;

  if (spec.location !== null) {
    const lat = row[spec.location.lat];
    const lon = row[spec.location.lon];
    if (typeof lat === 'number' && typeof lon === 'number') {
      const prev = state.loc;
      if (prev !== null && p.impossibleTravel !== null) {
        const km = haversineKm(prev[1], prev[2], lat, lon);
        const dtMs = Math.abs(ts - prev[0]);
        const speed = dtMs === 0 ? Number.POSITIVE_INFINITY : km / (dtMs / 3_600_000);
        if (km > p.impossibleTravel.minDistanceKm && speed > p.impossibleTravel.minSpeedKmh) {
          alerts = withAlert(
            alerts,
            alert(cfg, 'impossible_travel', 'CRITICAL', e, {
              distance_km: round(km),
              speed_kmh: Number.isFinite(speed) ? round(speed) : null,
              elapsed_ms: dtMs,
              previous_event_id: prev[3],
              previous_ts: prev[0],
              from: [prev[1], prev[2]],
              to: [lat, lon],
            }),
          );
        }
      }
      if (prev === null) state.loc = [ts, lat, lon, e.id];
      else {
        prev[0] = ts;
        prev[1] = lat;
        prev[2] = lon;
        prev[3] = e.id;
      }
    }
  }

  if (spec.transactionType === null || e.type === spec.transactionType) {
    // Remember the transaction (sorted by ts; equal ts keep arrival order).
    const tx = state.tx;
    const at = upperBound(tx, ts);
    const merchantValue = spec.merchantField === null ? null : row[spec.merchantField];
    const merchant = merchantValue === null || merchantValue === undefined ? null : String(merchantValue);
    if (at === tx.length) {
      tx.push(ts);
      state.m.push(merchant);
    } else {
      tx.splice(at, 0, ts);
      state.m.splice(at, 0, merchant);
    }
    if (ts > state.maxTxTs) state.maxTxTs = ts;
    // Inserted after the equal ts: the first element > ts is right behind it.
    const upTo = at + 1;

    const v = p.velocitySpike;
    if (v !== null) {
      const count = upTo - upperBound(tx, ts - v.windowMs);
      if (count > v.moreThan) {
        if ((state.fired & VELOCITY) === 0) {
          state.fired |= VELOCITY;
          alerts = withAlert(
            alerts,
            alert(cfg, 'velocity_spike', 'HIGH', e, { count, window_ms: v.windowMs, threshold: v.moreThan }),
          );
        }
      } else state.fired &= ~VELOCITY;
    }
    const b = p.rapidFireBurst;
    if (b !== null) {
      const count = upTo - upperBound(tx, ts - b.windowMs);
      if (count >= b.atLeast) {
        if ((state.fired & BURST) === 0) {
          state.fired |= BURST;
          alerts = withAlert(
            alerts,
            alert(cfg, 'rapid_fire_burst', 'HIGH', e, { count, window_ms: b.windowMs, threshold: b.atLeast }),
          );
        }
      } else state.fired &= ~BURST;
    }
    const d = p.merchantDiversity;
    if (d !== null) {
      const from = upperBound(tx, ts - d.windowMs);
      let distinct = 0;
      if (upTo - from >= d.atLeast) {
        // While the pattern has fired, only "still at least N?" matters: stop counting at N.
        // Armed, the exact count goes into the alert.
        const stopAt = (state.fired & DIVERSITY) !== 0 ? d.atLeast : Number.POSITIVE_INFINITY;
        const seen = SEEN;
        seen.clear();
        const m = state.m;
        for (let i = from; i < upTo && seen.size < stopAt; i++) {
          const mm = m[i];
          if (mm !== null && mm !== undefined) seen.add(mm);
        }
        distinct = seen.size;
        seen.clear();
      }
      if (distinct >= d.atLeast) {
        if ((state.fired & DIVERSITY) === 0) {
          state.fired |= DIVERSITY;
          alerts = withAlert(
            alerts,
            alert(cfg, 'merchant_diversity', 'MEDIUM', e, {
              distinct_merchants: distinct,
              window_ms: d.windowMs,
              threshold: d.atLeast,
            }),
          );
        }
      } else state.fired &= ~DIVERSITY;
    }

    const amountValue = spec.amountField === null ? null : row[spec.amountField];
    if (typeof amountValue === 'number') {
      const a = p.amountAnomaly;
      if (a !== null && state.n >= a.minHistory) {
        const sd = Math.sqrt(state.m2 / (state.n - 1));
        if (sd > 0 && amountValue > state.mean + a.sigma * sd) {
          const z = (amountValue - state.mean) / sd;
          alerts = withAlert(
            alerts,
            alert(cfg, 'amount_anomaly', amountValue > state.mean + a.highSigma * sd ? 'HIGH' : 'MEDIUM', e, {
              amount: amountValue,
              mean: round(state.mean, 4),
              stddev: round(sd, 4),
              z_score: round(z),
              history: state.n,
            }),
          );
        }
      }
      // Welford's update.
      state.n++;
      const delta = amountValue - state.mean;
      state.mean += delta / state.n;
      state.m2 += delta * (amountValue - state.mean);
    }

    // Bound the remembered transactions.
    const keepAfter = state.maxTxTs - cfg.oooMs - cfg.horizonMs;
    let drop = upperBound(tx, keepAfter);
    if (tx.length - drop > spec.maxTransactionsPerKey) drop = tx.length - spec.maxTransactionsPerKey;
    if (drop > 0) {
      tx.splice(0, drop);
      state.m.splice(0, drop);
    }
  }

  if (ts > state.maxTs) state.maxTs = ts;
  state.expiresAt = state.maxTs + cfg.ttlMs;
  return alerts ?? NO_ALERTS;
}

/**
 * CEP over all keys of a stream, with the per-key state in memory. Adapters that keep state
 * elsewhere (DynamoDB) use {@link cepStep} on the states of the keys in a batch instead.
 */
export class CepEngine {
  private readonly cfg: CepConfig | null;
  private readonly keys = new Map<string, CepKeyState>();

  constructor(domain: Domain, state?: CepState) {
    this.cfg = cepConfig(domain);
    if (state) {
      if (state.version !== 1)
        throw new Error(`CepEngine: unsupported state version ${String(state.version)}`);
      for (const [k, s] of Object.entries(state.keys)) this.keys.set(k, copyCepKeyState(s));
    }
  }

  /** Processes one silver event; returns the alerts (gold/alerts rows) it triggers (see {@link cepStep}). */
  process(e: SilverEvent): readonly Row[] {
    if (this.cfg === null) return NO_ALERTS;
    let s = this.keys.get(e.key);
    if (s === undefined) {
      s = emptyCepKeyState();
      this.keys.set(e.key, s);
    }
    return cepStep(this.cfg, s, e);
  }

  /** Number of keys with state. */
  get size(): number {
    return this.keys.size;
  }

  /** The live state of one key (undefined when none). */
  keyState(key: string): CepKeyState | undefined {
    return this.keys.get(key);
  }

  /** Sets the state of one key (a copy of `state`), e.g. loaded from a per-key store. */
  restoreKey(key: string, state: CepKeyState): void {
    this.keys.set(key, copyCepKeyState(state));
  }

  /** Removes the state of keys whose `expiresAt` is at or before `nowMs`; returns how many. */
  evictExpired(nowMs: number): number {
    let n = 0;
    for (const [k, s] of this.keys) {
      if (s.expiresAt <= nowMs) {
        this.keys.delete(k);
        n++;
      }
    }
    return n;
  }

  /** A JSON-serializable copy of the state. */
  snapshot(): CepState {
    const keys: Record<string, CepKeyState> = {};
    for (const [k, s] of this.keys) keys[k] = copyCepKeyState(s);
    return { version: 1, keys };
  }
}
