/** Geography helpers: haversine distance and the coarse country lookup. */
import type { CountryBox } from './domain.ts';

/** Mean Earth radius used by impossible_travel (SPEC §4), km. */
export const EARTH_RADIUS_KM = 6371.0088;

const RAD = Math.PI / 180;

/** Great-circle distance between two points in km (haversine, R = 6371.0088 km). */
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = (lat2 - lat1) * RAD;
  const dLon = (lon2 - lon1) * RAD;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** The code of the first box containing (lat, lon), bounds inclusive; null when none does. */
export function findCountry(boxes: readonly CountryBox[], lat: number, lon: number): string | null {
  for (let i = 0; i < boxes.length; i++) {
    const b = boxes[i]!;
    if (lat >= b.latMin && lat <= b.latMax && lon >= b.lonMin && lon <= b.lonMax) return b.code;
  }
  return null;
}
