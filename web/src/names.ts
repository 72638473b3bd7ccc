import { getJson } from "./api";
import { lang } from "./i18n";

interface Unit {
  id: number;
  name_zh: string;
  name_en: string;
}

const units = new Map<number, Promise<Unit | null>>();

/** An org unit's name in the current language (fetched once per unit). */
export async function unitName(id: number): Promise<string> {
  let found = units.get(id);
  if (!found) {
    found = getJson<Unit>(`/api/v1/org/units/${id}`).catch(() => null);
    units.set(id, found);
  }
  const unit = await found;
  if (!unit) return `#${id}`;
  return lang() === "zh" ? unit.name_zh : unit.name_en;
}

interface IncidentType {
  code: string;
  name_zh: string;
  name_en: string;
}

let types: Promise<Map<string, IncidentType>> | null = null;

/** An incident type's name in the current language. */
export async function typeName(code: string): Promise<string> {
  types ??= getJson<IncidentType[]>("/api/v1/incidents/types")
    .then((rows) => new Map(rows.map((r) => [r.code, r])))
    .catch(() => new Map());
  const known = (await types).get(code);
  if (!known) return code;
  return lang() === "zh" ? known.name_zh : known.name_en;
}

const responders = new Map<number, Promise<string>>();

/** A responder's display name (fetched once per responder). */
export function responderName(id: number): Promise<string> {
  let found = responders.get(id);
  if (!found) {
    found = getJson<{ display_name: string }>(`/api/v1/dispatch/responders/${id}`)
      .then((r) => r.display_name)
      .catch(() => `#${id}`);
    responders.set(id, found);
  }
  return found;
}
