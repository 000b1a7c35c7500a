/**
 * Mergeable partial aggregates (SPEC §3): count, sum, min, max, and the count of measured values
 * so that `avg = sum / measured` is derived, never stored. A tuple of plain numbers, so state is
 * JSON-serializable as is (min/max are 0 while nothing is measured: no Infinity in JSON).
 */

/** `[count, measured, sum, min, max]`: events counted, events with a non-null measure, and the measure's sum/min/max. */
export type Aggregate = [count: number, measured: number, sum: number, min: number, max: number];

export function emptyAggregate(): Aggregate {
  return [0, 0, 0, 0, 0];
}

/** Adds one event (with its measure, or null) to `agg` in place. */
export function addToAggregate(agg: Aggregate, measure: number | null): void {
  agg[0]++;
  if (measure === null) return;
  if (agg[1] === 0) {
    agg[3] = measure;
    agg[4] = measure;
  } else {
    if (measure < agg[3]) agg[3] = measure;
    if (measure > agg[4]) agg[4] = measure;
  }
  agg[1]++;
  agg[2] += measure;
}

/** Combines two partial aggregates of the same window into a new one (associative, commutative up to float rounding of sums). */
export function mergeAggregates(a: Aggregate, b: Aggregate): Aggregate {
  if (a[1] === 0) return [a[0] + b[0], b[1], b[2], b[3], b[4]];
  if (b[1] === 0) return [a[0] + b[0], a[1], a[2], a[3], a[4]];
  return [a[0] + b[0], a[1] + b[1], a[2] + b[2], Math.min(a[3], b[3]), Math.max(a[4], b[4])];
}

/** Average of the measured values, or null when nothing was measured. */
export function aggregateAvg(agg: Aggregate): number | null {
  return agg[1] === 0 ? null : agg[2] / agg[1];
}
