/**
 * Seeded synthetic events of a domain: realistic enough to exercise every part of the pipeline.
 *
 * - Keys (users, devices) are Zipf-distributed; each has a home city (currency, coordinates),
 *   a typical amount, and sticky values (device, sensor, site).
 * - Traffic is a simulation in arrival time: sessions start as a Poisson process, each a few
 *   events apart (`generator.session.gap`), and a key rests `generator.session.idle` between
 *   sessions (longer than the session window gap, so sessions are visible in gold). Keys travel
 *   between cities at plausible speeds; merchants are Zipf-distributed; amounts are per-key
 *   log-normal, in the local currency.
 * - Event time lags arrival time a little for some events (within max_out_of_orderness) and a
 *   lot for a few (late events for the windows).
 * - Anomalies (opt-in) are scripted sessions built from the domain's CEP thresholds; every
 *   record of a scenario is labelled with the pattern, and `trigger: true` marks the record on
 *   which the alert is expected (natural traffic of the key can make it fire a little earlier,
 *   never later). Natural traffic may occasionally trigger alerts too: labels mark injected ones.
 * - Poison records and duplicates (exact copies of an earlier value, a few records later) are
 *   injected at configurable rates and labelled with the expected poison code / original id.
 *
 * The same seed and options always give the same records.
 */
import type { CepPattern } from './cep.ts';
import type { Domain, FieldSpec, GeneratorCity } from './domain.ts';
import { haversineKm } from './geo.ts';
import { Random, Zipf } from './random.ts';
import { isoString } from './time.ts';
import type { PoisonCode } from './validate.ts';

export type GeneratedLabel =
  | {
      readonly kind: 'anomaly';
      readonly pattern: CepPattern;
      readonly scenario: number;
      readonly trigger: boolean;
    }
  | { readonly kind: 'poison'; readonly code: PoisonCode }
  | { readonly kind: 'duplicate'; readonly of: string };

/** One generated Kafka record: key and value as text, and a label for injected ones. */
export interface GeneratedRecord {
  readonly key: string;
  readonly value: string;
  readonly label?: GeneratedLabel;
}

export interface GeneratorOptions {
  /** @default 1 */
  readonly seed?: number;
  /**
   * Anomaly scenarios: `true` for the default rates, or the probability per session of each
   * pattern's scenario. Patterns the domain does not configure are never injected.
   * @default false
   */
  readonly anomalies?: boolean | Partial<Record<CepPattern, number>>;
  /** Share of records replaced by poison. @default 0 */
  readonly poisonRate?: number;
  /** Share of records that are duplicates of an earlier one. @default 0 */
  readonly duplicateRate?: number;
  /**
   * Arrival time of the simulation's start, epoch ms (live runs: now). @default the domain's
   * `generator.start`
   */
  readonly startMs?: number;
  /**
   * Events per second of arrival time at which sessions start (live runs: the produce rate). Each
   * session spreads its events over minutes, so a short run's arrival times span a few minutes
   * whatever the rate. @default the domain's `generator.events_per_second`
   */
  readonly eventsPerSecond?: number;
}

/**
 * Longest gap between two steps of a velocity, merchant-diversity or amount scenario, and the
 * event time a scenario aims to fit in: a burst of 22 transactions, 9 merchants or 12 history
 * transactions plays out in about a minute of event time, so the first 20,000 events (100 s at
 * 200 events/s) show every pattern. Steps stay far enough apart not to make a rapid-fire burst
 * by accident; the triggering record is the same as with wider spacing.
 */
const SCENARIO_STEP_MS = 3_000;
const SCENARIO_SPAN_MS = 60_000;
/** With anomalies on, the first scenario of each pattern starts this long after the previous one. */
const FIRST_SCENARIOS_EVERY_MS = 1_500;

/** Per-session probability of each scenario with `anomalies: true`. */
export const DEFAULT_ANOMALY_RATES: Readonly<Record<CepPattern, number>> = {
  velocity_spike: 0.001,
  amount_anomaly: 0.002,
  impossible_travel: 0.002,
  rapid_fire_burst: 0.002,
  merchant_diversity: 0.001,
};

interface KeyProfile {
  readonly id: string;
  city: number;
  /** Where its located events are, give or take `roam_km`: moves when the key travels. */
  home: [number, number];
  /** arrival time of its last located event */
  lastLocAt: number;
  readonly baseUsd: number;
  readonly sticky: Record<string, unknown>;
  /** Favourite merchants: people mostly shop where they usually shop. */
  readonly favourites: readonly string[];
  busyUntil: number;
}

interface ScriptStep {
  /** delay after the previous step, ms */
  readonly delay: number;
  readonly type: string;
  readonly set: Record<string, unknown>;
  readonly located: boolean | [number, number];
  readonly label?: GeneratedLabel;
}

interface Session {
  at: number;
  readonly key: KeyProfile;
  remaining: number;
  readonly script: ScriptStep[] | null;
  step: number;
}

function heapPush(h: Session[], s: Session): void {
  h.push(s);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (h[p]!.at <= s.at) break;
    h[i] = h[p]!;
    i = p;
  }
  h[i] = s;
}

function heapPop(h: Session[]): Session | undefined {
  const top = h[0];
  const last = h.pop();
  if (top === undefined || last === undefined || h.length === 0) return top;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= h.length) break;
    const r = l + 1;
    const c = r < h.length && h[r]!.at < h[l]!.at ? r : l;
    if (h[c]!.at >= last.at) break;
    h[i] = h[c]!;
    i = c;
  }
  h[i] = last;
  return top;
}

/** A point `km` or less from (lat, lon) in a uniformly random direction and distance. */
function near(rng: Random, lat: number, lon: number, km: number): [number, number] {
  if (km <= 0) return [lat, lon];
  const r = km * Math.sqrt(rng.next());
  const a = 2 * Math.PI * rng.next();
  const dLat = (r * Math.cos(a)) / 111.32;
  const dLon = (r * Math.sin(a)) / (111.32 * Math.max(0.01, Math.cos((lat * Math.PI) / 180)));
  return [Math.max(-90, Math.min(90, lat + dLat)), ((lon + dLon + 540) % 360) - 180];
}

/** A 31-bit hash of a string (FNV-1a), to seed where a shared home (a site) is. */
function hashOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 1 || 1;
}

/** Keys' home points are spread this far around their city's centre. */
const CITY_RADIUS_KM = 5;

const FALLBACK_CITIES: readonly GeneratorCity[] = [
  { name: 'A', lat: 40.71, lon: -74.01, currency: null },
  { name: 'B', lat: 51.51, lon: -0.13, currency: null },
  { name: 'C', lat: 35.68, lon: 139.69, currency: null },
];

/**
 * Generates `count` records of `domain` (poison and duplicates included in the count), lazily.
 * @example for (const r of generateEvents(loadDomain('payments'), 1000, { seed: 7 })) producer.send(r.key, r.value)
 */
export function* generateEvents(
  domain: Domain,
  count: number,
  options: GeneratorOptions = {},
): Generator<GeneratedRecord> {
  const g = {
    ...domain.generator,
    ...(options.startMs === undefined ? {} : { startMs: options.startMs }),
    ...(options.eventsPerSecond === undefined ? {} : { eventsPerSecond: options.eventsPerSecond }),
  };
  const rng = new Random(options.seed ?? 1);
  const cep = domain.cep;
  const patterns = cep?.patterns;
  const rates: Partial<Record<CepPattern, number>> =
    options.anomalies === true ? DEFAULT_ANOMALY_RATES : options.anomalies ? options.anomalies : {};
  const enabled: Array<[CepPattern, number]> = [];
  for (const [p, r] of Object.entries(rates) as Array<[CepPattern, number]>) {
    const on =
      (p === 'velocity_spike' && patterns?.velocitySpike) ||
      (p === 'amount_anomaly' && patterns?.amountAnomaly && g.measure) ||
      (p === 'impossible_travel' && patterns?.impossibleTravel) ||
      (p === 'rapid_fire_burst' && patterns?.rapidFireBurst) ||
      (p === 'merchant_diversity' && patterns?.merchantDiversity);
    if (on && r > 0) enabled.push([p, r]);
  }
  const poisonRate = options.poisonRate ?? 0;
  const duplicateRate = options.duplicateRate ?? 0;

  const cities = g.cities.length > 0 ? g.cities : FALLBACK_CITIES;
  // Enough keys to sustain `events_per_second`: a key runs at most one session per cycle (its
  // session, then `idle`), so a run of T needs about sessions / (T / cycle + 1) keys; twice that,
  // because the Zipf head is busy most of the time. `per_1k_events` and `min` are lower bounds.
  const sessions = count / g.session.meanEvents;
  const runMs = (count / g.eventsPerSecond) * 1000;
  const cycleMs = g.session.meanEvents * ((g.session.gapMinMs + g.session.gapMaxMs) / 2) + g.session.idleMs;
  // At the configured rate, `events_per_second x mean gap` sessions are under way at any moment
  // (each emits an event per mean gap): the run starts with that many already going (warm start),
  // so the rate holds from the first event instead of ramping up over a session's length.
  const gapMeanMs = (g.session.gapMinMs + g.session.gapMaxMs) / 2;
  const concurrent = Math.round((g.eventsPerSecond * gapMeanMs) / 1000);
  const numKeys = Math.max(
    g.keys.min,
    Math.ceil((count / 1000) * g.keys.per1kEvents),
    Math.ceil((2 * (sessions + concurrent)) / (runMs / cycleMs + 1)),
  );
  const keyZipf = new Zipf(numKeys, g.keys.zipf);
  const cityZipf = new Zipf(cities.length, 0.8);
  const keys: Array<KeyProfile | undefined> = new Array<KeyProfile | undefined>(numKeys).fill(undefined);
  const pools = new Map<string, { list: readonly string[] } | { prefix: string; zipf: Zipf }>();
  for (const [name, v] of Object.entries(g.values)) {
    pools.set(name, 'list' in v ? { list: v.list } : { prefix: v.prefix, zipf: new Zipf(v.count, v.zipf) });
  }
  const types = Object.keys(g.eventMix);
  const weights = types.map((t) => g.eventMix[t] ?? 0);
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const fieldsByName = new Map(domain.fields.map((f) => [f.name, f]));
  const cur = domain.enrichment.currency;
  const loc =
    cep?.location ??
    (domain.enrichment.geo
      ? { lat: domain.enrichment.geo.latField, lon: domain.enrichment.geo.lonField }
      : null);
  const measure = g.measure;
  const txType = cep?.transactionType ?? types[0] ?? domain.eventTypes[0]!;
  const merchantField = cep?.merchantField ?? null;
  const tsField = fieldsByName.get(domain.eventTimeField)!;
  const amountSpec = cur ? fieldsByName.get(cur.amountField) : undefined;
  const amountAllowed = domain.eventTypes.map(
    (t) => amountSpec !== undefined && (amountSpec.onlyFor === null || amountSpec.onlyFor.includes(t)),
  );

  const pickType = (): string => {
    let u = rng.next() * totalWeight;
    for (let i = 0; i < types.length; i++) {
      u -= weights[i]!;
      if (u < 0) return types[i]!;
    }
    return types[types.length - 1]!;
  };

  const poolValue = (name: string): string | undefined => {
    const pool = pools.get(name);
    if (pool === undefined) return undefined;
    return 'list' in pool ? rng.pick(pool.list) : `${pool.prefix}${pool.zipf.sample(rng) + 1}`;
  };

  const genericValue = (f: FieldSpec): unknown => {
    const pooled = poolValue(f.name);
    if (pooled !== undefined) return pooled;
    switch (f.type) {
      case 'string':
        return f.enum ? rng.pick(f.enum) : `${f.name}-${rng.int(1000)}`;
      case 'number':
        return Math.round(rng.uniform(f.min ?? 0, f.max ?? 100) * 100) / 100;
      case 'integer':
        return Math.floor(rng.uniform(f.min ?? 0, (f.max ?? 100) + 1));
      case 'boolean':
        return rng.chance(0.5);
      default:
        return null;
    }
  };

  const keyProfile = (rank: number): KeyProfile => {
    let k = keys[rank];
    if (k === undefined) {
      const sticky: Record<string, unknown> = {};
      for (const name of g.sticky) {
        const f = fieldsByName.get(name);
        if (f) sticky[name] = genericValue(f);
      }
      let city: number;
      let home: [number, number];
      const homeValue = g.homeBy === null ? undefined : sticky[g.homeBy];
      if (homeValue !== undefined && homeValue !== null) {
        // Keys that share the value (devices of a site) share a home: seeded by the value alone.
        const place = new Random(hashOf(String(homeValue)));
        city = cityZipf.sample(place);
        home = near(place, cities[city]!.lat, cities[city]!.lon, CITY_RADIUS_KM);
      } else {
        city = cityZipf.sample(rng);
        home = near(rng, cities[city]!.lat, cities[city]!.lon, CITY_RADIUS_KM);
      }
      k = {
        id: `${g.keys.prefix}${rank + 1}`,
        city,
        home,
        lastLocAt: Number.NEGATIVE_INFINITY,
        baseUsd: measure ? Math.exp(measure.mu + measure.sigma * rng.normal()) : 0,
        sticky,
        favourites: merchantField
          ? Array.from(
              { length: 2 + rng.int(4) },
              () => poolValue(merchantField) ?? `${merchantField}-${rng.int(100)}`,
            )
          : [],
        busyUntil: Number.NEGATIVE_INFINITY,
      };
      keys[rank] = k;
    }
    return k;
  };

  const rateOf = (currency: string | null): number => (cur && currency ? (cur.ratesToUsd[currency] ?? 1) : 1);

  /** Builds the event object for a key at arrival time `now`. */
  const buildEvent = (
    k: KeyProfile,
    now: number,
    type: string,
    set: Record<string, unknown>,
    located: boolean | [number, number],
    scripted: boolean,
  ) => {
    let ts = now;
    const d = g.disorder;
    const u = rng.next();
    // Scripted (anomaly) records keep event time = arrival time, so their labels stay exact.
    if (scripted) ts = now;
    else if (u < d.lateShare) ts = now - Math.round(rng.uniform(d.maxMs, d.lateMaxMs));
    else if (u < d.lateShare + d.share) ts = now - Math.round(rng.uniform(0, d.maxMs));
    const obj: Record<string, unknown> = {};
    const city = cities[k.city]!;
    const currency = city.currency ?? 'USD';
    const typeIndex = domain.eventTypes.indexOf(type);
    for (const f of domain.fields) {
      const name = f.name;
      if (name in set) {
        if (set[name] !== undefined) obj[name] = set[name];
        continue;
      }
      if (name === domain.dedupField) obj[name] = rng.uuid();
      else if (name === domain.eventTypeField) obj[name] = type;
      else if (name === domain.keyField) obj[name] = k.id;
      else if (f === tsField) obj[name] = rng.chance(g.isoShare) ? isoString(ts) : ts;
      else {
        const allowed = f.onlyFor === null || f.onlyFor.includes(type);
        const required = f.required || f.requiredFor.includes(type);
        if (!allowed || typeIndex < 0) continue;
        if (loc && (name === loc.lat || name === loc.lon)) continue;
        if (measure && name === measure.field) {
          if (required || rng.chance(0.5)) {
            const usd = k.baseUsd * Math.exp(measure.jitter * rng.normal());
            const scale = 10 ** measure.decimals;
            obj[name] = Math.round((usd / rateOf(cur ? currency : null)) * scale) / scale;
          }
          continue;
        }
        if (cur && name === cur.currencyField) {
          const hasAmount = amountAllowed[typeIndex] === true;
          if (required || (hasAmount && (currency !== 'USD' || rng.chance(0.5)))) obj[name] = currency;
          continue;
        }
        // A field required for other types only (merchant_id) stays off the rest.
        if (!required && f.requiredFor.length > 0) continue;
        if (name in k.sticky) {
          obj[name] = k.sticky[name];
          continue;
        }
        if (f.pair !== null) continue;
        if (name === merchantField && k.favourites.length > 0 && rng.chance(0.9)) {
          if (required || rng.chance(0.6)) obj[name] = rng.pick(k.favourites);
          continue;
        }
        if (required || rng.chance(0.6)) obj[name] = genericValue(f);
      }
    }
    if (loc) {
      let point: [number, number] | null = null;
      if (Array.isArray(located)) point = located;
      else if (located === true || rng.chance(g.locatedShare)) {
        point = near(rng, k.home[0], k.home[1], g.roamKm);
      }
      if (point) {
        obj[loc.lat] = Math.round(point[0] * 1e5) / 1e5;
        obj[loc.lon] = Math.round(point[1] * 1e5) / 1e5;
        k.lastLocAt = now;
      }
    }
    return obj;
  };

  // Steps of a counting scenario are at least this far apart, so that it does not also make a
  // rapid-fire burst (unless it is one).
  const rapid = patterns?.rapidFireBurst ?? null;
  const minSpacing = rapid ? Math.ceil((1.25 * rapid.windowMs) / Math.max(1, rapid.atLeast - 1)) : 1_000;
  const spacingFor = (steps: number, windowMs: number): number =>
    Math.max(
      Math.min(minSpacing, Math.floor((0.7 * windowMs) / Math.max(1, steps - 1))),
      Math.min(SCENARIO_STEP_MS, Math.floor(SCENARIO_SPAN_MS / Math.max(1, steps - 1))),
    );
  let scenarioId = 0;
  const scenario = (pattern: CepPattern, k: KeyProfile): ScriptStep[] => {
    const id = ++scenarioId;
    const lab = (trigger: boolean): GeneratedLabel => ({ kind: 'anomaly', pattern, scenario: id, trigger });
    const merchant = merchantField ? (poolValue(merchantField) ?? `${merchantField}-x`) : undefined;
    const mset = (m: string | undefined): Record<string, unknown> =>
      merchantField && m !== undefined ? { [merchantField]: m } : {};
    const steps: ScriptStep[] = [];
    if (pattern === 'velocity_spike' && patterns?.velocitySpike) {
      const v = patterns.velocitySpike;
      const n = v.moreThan + 2;
      const spacing = spacingFor(n, v.windowMs);
      for (let i = 0; i < n; i++)
        steps.push({
          delay: i === 0 ? 0 : spacing,
          type: txType,
          set: mset(merchant),
          located: false,
          label: lab(i === v.moreThan),
        });
    } else if (pattern === 'rapid_fire_burst' && patterns?.rapidFireBurst) {
      const b = patterns.rapidFireBurst;
      const n = b.atLeast + 1;
      const spacing = Math.floor((0.7 * b.windowMs) / (n - 1));
      for (let i = 0; i < n; i++)
        steps.push({
          delay: i === 0 ? 0 : spacing,
          type: txType,
          set: mset(merchant),
          located: false,
          label: lab(i === b.atLeast - 1),
        });
    } else if (pattern === 'merchant_diversity' && patterns?.merchantDiversity && merchantField) {
      const d = patterns.merchantDiversity;
      const n = d.atLeast + 1;
      const spacing = spacingFor(n, d.windowMs);
      for (let i = 0; i < n; i++) {
        steps.push({
          delay: i === 0 ? 0 : spacing,
          type: txType,
          set: mset(`${merchant}-d${i}`),
          located: false,
          label: lab(i === d.atLeast - 1),
        });
      }
    } else if (pattern === 'amount_anomaly' && patterns?.amountAnomaly && measure) {
      const a = patterns.amountAnomaly;
      const warm = a.minHistory + 2;
      const merchants = [0, 1, 2].map(() => (merchantField ? poolValue(merchantField) : undefined));
      const spacing = spacingFor(warm + 1, Number.POSITIVE_INFINITY);
      for (let i = 0; i < warm; i++)
        steps.push({
          delay: i === 0 ? 0 : spacing,
          type: txType,
          set: mset(merchants[i % 3]),
          located: false,
        });
      const city = cities[k.city]!;
      const scale = 10 ** measure.decimals;
      const bound = fieldsByName.get(measure.field)?.max ?? Number.POSITIVE_INFINITY;
      const spike = Math.min(
        bound,
        Math.round(((k.baseUsd * 20 + 50) / rateOf(cur ? (city.currency ?? 'USD') : null)) * scale) / scale,
      );
      steps.push({
        delay: spacing,
        type: txType,
        set: { ...mset(merchants[0]), [measure.field]: spike },
        located: false,
        label: lab(true),
      });
    } else if (pattern === 'impossible_travel' && patterns?.impossibleTravel) {
      const t = patterns.impossibleTravel;
      const home = k.home;
      let far: [number, number] | null = null;
      for (const [i, c] of cities.entries()) {
        if (
          far === null &&
          haversineKm(home[0], home[1], c.lat, c.lon) > Math.max(3 * t.minDistanceKm, 300)
        ) {
          far = [c.lat, c.lon];
          k.city = i; // the key is now seen there; its next located events continue from it
        }
      }
      if (far === null) far = [Math.max(-89, Math.min(89, home[0] + (home[0] > 0 ? -20 : 20))), home[1]];
      k.home = far;
      const km = haversineKm(home[0], home[1], far[0], far[1]);
      // Fast enough to be impossible: at most half the time the threshold speed allows.
      const delay = Math.max(1_000, Math.floor(((km / t.minSpeedKmh) * 3_600_000) / 2));
      steps.push({ delay: 0, type: pickType(), set: {}, located: [home[0], home[1]], label: lab(false) });
      steps.push({
        delay: Math.min(delay, 30_000),
        type: pickType(),
        set: {},
        located: far,
        label: lab(true),
      });
    }
    return steps;
  };

  // Simulation state.
  const heap: Session[] = [];
  const sessionRatePerMs = g.eventsPerSecond / g.session.meanEvents / 1000;
  let nextSessionAt = g.startMs;
  const pendingDuplicates: Array<[number, GeneratedRecord, string]> = [];
  let emitted = 0;

  const startSession = (now: number): void => {
    let k: KeyProfile | undefined;
    for (let attempt = 0; attempt < 8 && k === undefined; attempt++) {
      const cand = keyProfile(keyZipf.sample(rng));
      if (cand.busyUntil <= now) k = cand;
    }
    // The Zipf head is busy: the next free key from a uniform start (dropping the session
    // instead would silently lower the event rate below `events_per_second`).
    for (let i = 0, at = rng.int(numKeys); i < 256 && k === undefined; i++, at = (at + 1) % numKeys) {
      const cand = keyProfile(at);
      if (cand.busyUntil <= now) k = cand;
    }
    if (k === undefined) return;
    let script: ScriptStep[] | null = null;
    for (const [p, r] of enabled) {
      if (rng.chance(r)) {
        script = scenario(p, k);
        if (script.length > 0) break;
        script = null;
      }
    }
    if (script === null && cities.length > 1 && rng.chance(g.travelShare)) {
      const to = cityZipf.sample(rng);
      const from = cities[k.city]!;
      const dest = cities[to]!;
      const hours = haversineKm(from.lat, from.lon, dest.lat, dest.lon) / 800 + 1;
      if (to !== k.city && now - k.lastLocAt >= hours * 3_600_000) {
        k.city = to;
        k.home = near(rng, dest.lat, dest.lon, CITY_RADIUS_KM);
      }
    }
    const remaining = script ? script.length : Math.max(1, Math.round(rng.exponential(g.session.meanEvents)));
    k.busyUntil = Number.POSITIVE_INFINITY;
    heapPush(heap, { at: now, key: k, remaining, script, step: 0 });
  };

  // Anomalies on: the first scenario of each pattern starts at once, on a key of its own (no
  // waiting for an idle key, no natural traffic mixed in), so a short run shows every pattern.
  let extraRank = numKeys;
  for (const [i, [p]] of enabled.entries()) {
    const k = keyProfile(extraRank++);
    const script = scenario(p, k);
    if (script.length === 0) continue;
    k.busyUntil = Number.POSITIVE_INFINITY;
    heapPush(heap, {
      at: g.startMs + (i + 1) * FIRST_SCENARIOS_EVERY_MS,
      key: k,
      remaining: script.length,
      script,
      step: 0,
    });
  }
  // A session under way has its next event a residual gap away: a gap drawn in proportion to its
  // length (the one the start falls into), then a uniform point of it. So the warm sessions
  // together emit at the configured rate from the start, not in a burst.
  const residualGap = (): number => {
    const a = g.session.gapMinMs;
    const b = g.session.gapMaxMs;
    return Math.round(rng.next() * Math.sqrt(a * a + rng.next() * (b * b - a * a)));
  };
  for (let i = 0; i < concurrent && i < numKeys / 2; i++) startSession(g.startMs + residualGap());
  nextSessionAt = g.startMs;

  while (emitted < count) {
    // Due duplicates first.
    if (pendingDuplicates.length > 0 && pendingDuplicates[0]![0] <= emitted) {
      const [, rec] = pendingDuplicates.shift()!;
      emitted++;
      yield rec;
      continue;
    }
    const top = heap[0];
    if (top === undefined || nextSessionAt <= top.at) {
      startSession(nextSessionAt);
      nextSessionAt += Math.max(1, Math.round(rng.exponential(1 / sessionRatePerMs)));
      continue;
    }
    const s = heapPop(heap)!;
    const now = s.at;
    const step = s.script ? s.script[s.step] : undefined;
    const type = step ? step.type : pickType();
    const obj = buildEvent(
      s.key,
      now,
      type,
      step?.set ?? {},
      step ? step.located : false,
      step !== undefined,
    );
    s.remaining--;
    s.step++;
    if (s.remaining > 0) {
      const nextStep = s.script ? s.script[s.step] : undefined;
      s.at =
        now + (nextStep ? nextStep.delay : Math.round(rng.uniform(g.session.gapMinMs, g.session.gapMaxMs)));
      heapPush(heap, s);
    } else {
      s.key.busyUntil = now + g.session.idleMs;
    }

    if (step === undefined && poisonRate > 0 && rng.chance(poisonRate)) {
      const [code, value] = poison(domain, obj, rng);
      emitted++;
      yield { key: s.key.id, value, label: { kind: 'poison', code } };
      continue;
    }
    const value = JSON.stringify(obj);
    const record: GeneratedRecord = step?.label
      ? { key: s.key.id, value, label: step.label }
      : { key: s.key.id, value };
    emitted++;
    yield record;
    if (duplicateRate > 0 && rng.chance(duplicateRate)) {
      const id = String(obj[domain.dedupField]);
      const at = emitted + rng.int(50);
      let i = pendingDuplicates.length;
      while (i > 0 && pendingDuplicates[i - 1]![0] > at) i--;
      pendingDuplicates.splice(i, 0, [
        at,
        { key: s.key.id, value, label: { kind: 'duplicate', of: id } },
        id,
      ]);
    }
  }
}

/** Turns a valid event object into a poison record value with a known expected code. */
function poison(domain: Domain, obj: Record<string, unknown>, rng: Random): [PoisonCode, string] {
  const json = JSON.stringify(obj);
  const type = String(obj[domain.eventTypeField]);
  const options: Array<() => [PoisonCode, string]> = [
    () => ['invalid_json', json.slice(0, Math.max(1, Math.floor(json.length / 2)))],
    () => ['not_an_object', `[${json}]`],
    () => {
      const o = { ...obj };
      delete o[rng.chance(0.5) ? domain.dedupField : domain.eventTimeField];
      return ['missing_field', JSON.stringify(o)];
    },
    () => ['wrong_type', JSON.stringify({ ...obj, [domain.eventTimeField]: true })],
    () => ['unknown_event_type', JSON.stringify({ ...obj, [domain.eventTypeField]: 'unknown_kind' })],
    () => ['invalid_timestamp', JSON.stringify({ ...obj, [domain.eventTimeField]: '2026-11-02 08:00:00' })],
  ];
  const tsSpec = domain.fields.find((f) => f.name === domain.eventTimeField);
  if (tsSpec?.min != null && tsSpec.min > 10_000_000_000) {
    const ms =
      typeof obj[domain.eventTimeField] === 'number'
        ? (obj[domain.eventTimeField] as number)
        : Date.parse(String(obj[domain.eventTimeField]));
    options.push(() => [
      'out_of_range',
      JSON.stringify({ ...obj, [domain.eventTimeField]: Math.floor(ms / 1000) }),
    ]);
  }
  const pairField = domain.fields.find((f) => f.pair !== null && !f.required);
  if (pairField?.pair) {
    const partner = pairField.pair;
    options.push(() => {
      const o = { ...obj, [pairField.name]: 10 };
      delete o[partner];
      return ['incomplete_pair', JSON.stringify(o)];
    });
  }
  const onlyFor = domain.fields.find(
    (f) => f.onlyFor !== null && !f.onlyFor.includes(type) && (f.type === 'number' || f.type === 'string'),
  );
  if (onlyFor)
    options.push(() => [
      'unexpected_field',
      JSON.stringify({ ...obj, [onlyFor.name]: onlyFor.type === 'number' ? 1 : 'x' }),
    ]);
  const patterned = domain.fields.find(
    (f) => f.pattern !== null && f.type === 'string' && !f.pattern.test('not matching!'),
  );
  if (patterned)
    options.push(() => ['pattern_mismatch', JSON.stringify({ ...obj, [patterned.name]: 'not matching!' })]);
  if (rng.chance(0.01))
    return ['too_large', JSON.stringify({ ...obj, padding: 'x'.repeat(domain.maxRecordBytes) })];
  return rng.pick(options)();
}
