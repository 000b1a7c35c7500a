/**
 * The conservation check of SPEC §1, on counts taken at independent places: records the source
 * produced, bronze rows actually written, silver rows actually written, records the dead-letter
 * sink accepted, duplicates dropped. Nothing is dropped silently when both equations hold.
 */
export interface ConservationInput {
  readonly produced: number;
  readonly bronze: number;
  readonly silver: number;
  readonly deadLettered: number;
  readonly duplicates: number;
}

export interface ConservationResult extends ConservationInput {
  readonly ok: boolean;
  /** produced = bronze */
  readonly producedEqualsBronze: boolean;
  /** bronze = silver + dead-lettered + duplicates */
  readonly bronzeAccountedFor: boolean;
  /** bronze - silver - dead-lettered - duplicates (0 when it holds). */
  readonly unaccounted: number;
}

export function checkConservation(c: ConservationInput): ConservationResult {
  const producedEqualsBronze = c.produced === c.bronze;
  const unaccounted = c.bronze - c.silver - c.deadLettered - c.duplicates;
  const bronzeAccountedFor = unaccounted === 0;
  return {
    ...c,
    ok: producedEqualsBronze && bronzeAccountedFor,
    producedEqualsBronze,
    bronzeAccountedFor,
    unaccounted,
  };
}
