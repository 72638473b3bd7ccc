import { cityToday } from "./i18n";

// Presets end today in the city's zone. `since` is a local midnight without an
// offset, which the API reads in the city's zone; whole days keep tile URLs
// stable, so the server's heat-surface cache is reused across pans.
export const PRESETS = [7, 28, 90] as const;
export type Preset = (typeof PRESETS)[number];

export interface TimeWindow {
  days: Preset;
  since: string;
}

export function windowOf(days: Preset): TimeWindow {
  const [y, m, d] = cityToday().split("-").map(Number);
  const start = new Date(Date.UTC(y, m - 1, d - days + 1));
  return { days, since: `${start.toISOString().slice(0, 10)}T00:00:00` };
}
