// PoP sites: well-known metros that host internet exchanges, with approximate coordinates
// (degrees, public geographic facts, rounded to 0.01°). Ids are IATA-style city codes.

export interface City {
  readonly id: string;
  readonly name: string;
  readonly lat: number;
  readonly lon: number;
}

export const CITIES: readonly City[] = [
  { id: 'tyo', name: 'Tokyo', lat: 35.68, lon: 139.69 },
  { id: 'osa', name: 'Osaka', lat: 34.69, lon: 135.5 },
  { id: 'sel', name: 'Seoul', lat: 37.57, lon: 126.98 },
  { id: 'hkg', name: 'Hong Kong', lat: 22.32, lon: 114.17 },
  { id: 'tpe', name: 'Taipei', lat: 25.03, lon: 121.57 },
  { id: 'sin', name: 'Singapore', lat: 1.35, lon: 103.82 },
  { id: 'jkt', name: 'Jakarta', lat: -6.21, lon: 106.85 },
  { id: 'bkk', name: 'Bangkok', lat: 13.76, lon: 100.5 },
  { id: 'mnl', name: 'Manila', lat: 14.6, lon: 120.98 },
  { id: 'bom', name: 'Mumbai', lat: 19.08, lon: 72.88 },
  { id: 'del', name: 'Delhi', lat: 28.61, lon: 77.21 },
  { id: 'maa', name: 'Chennai', lat: 13.08, lon: 80.27 },
  { id: 'dxb', name: 'Dubai', lat: 25.2, lon: 55.27 },
  { id: 'tlv', name: 'Tel Aviv', lat: 32.09, lon: 34.78 },
  { id: 'ist', name: 'Istanbul', lat: 41.01, lon: 28.98 },
  { id: 'mow', name: 'Moscow', lat: 55.76, lon: 37.62 },
  { id: 'sto', name: 'Stockholm', lat: 59.33, lon: 18.07 },
  { id: 'waw', name: 'Warsaw', lat: 52.23, lon: 21.01 },
  { id: 'fra', name: 'Frankfurt', lat: 50.11, lon: 8.68 },
  { id: 'ams', name: 'Amsterdam', lat: 52.37, lon: 4.9 },
  { id: 'lon', name: 'London', lat: 51.51, lon: -0.13 },
  { id: 'par', name: 'Paris', lat: 48.86, lon: 2.35 },
  { id: 'mad', name: 'Madrid', lat: 40.42, lon: -3.7 },
  { id: 'mil', name: 'Milan', lat: 45.46, lon: 9.19 },
  { id: 'jnb', name: 'Johannesburg', lat: -26.2, lon: 28.05 },
  { id: 'cpt', name: 'Cape Town', lat: -33.92, lon: 18.42 },
  { id: 'los', name: 'Lagos', lat: 6.52, lon: 3.38 },
  { id: 'nbo', name: 'Nairobi', lat: -1.29, lon: 36.82 },
  { id: 'cai', name: 'Cairo', lat: 30.04, lon: 31.24 },
  { id: 'syd', name: 'Sydney', lat: -33.87, lon: 151.21 },
  { id: 'mel', name: 'Melbourne', lat: -37.81, lon: 144.96 },
  { id: 'akl', name: 'Auckland', lat: -36.85, lon: 174.76 },
  { id: 'per', name: 'Perth', lat: -31.95, lon: 115.86 },
  { id: 'lax', name: 'Los Angeles', lat: 34.05, lon: -118.24 },
  { id: 'sfo', name: 'San Francisco', lat: 37.77, lon: -122.42 },
  { id: 'sea', name: 'Seattle', lat: 47.61, lon: -122.33 },
  { id: 'den', name: 'Denver', lat: 39.74, lon: -104.99 },
  { id: 'dfw', name: 'Dallas', lat: 32.78, lon: -96.8 },
  { id: 'chi', name: 'Chicago', lat: 41.88, lon: -87.63 },
  { id: 'yyz', name: 'Toronto', lat: 43.65, lon: -79.38 },
  { id: 'nyc', name: 'New York', lat: 40.71, lon: -74.01 },
  { id: 'iad', name: 'Ashburn', lat: 39.04, lon: -77.49 },
  { id: 'mia', name: 'Miami', lat: 25.76, lon: -80.19 },
  { id: 'atl', name: 'Atlanta', lat: 33.75, lon: -84.39 },
  { id: 'mex', name: 'Mexico City', lat: 19.43, lon: -99.13 },
  { id: 'bog', name: 'Bogotá', lat: 4.71, lon: -74.07 },
  { id: 'lim', name: 'Lima', lat: -12.05, lon: -77.04 },
  { id: 'gru', name: 'São Paulo', lat: -23.55, lon: -46.63 },
  { id: 'bue', name: 'Buenos Aires', lat: -34.6, lon: -58.38 },
  { id: 'scl', name: 'Santiago', lat: -33.45, lon: -70.67 },
  { id: 'hnl', name: 'Honolulu', lat: 21.31, lon: -157.86 },
];

const EARTH_RADIUS_KM = 6371;

/** Great-circle distance (haversine), km. */
export function greatCircleKm(a: City, b: City): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}
