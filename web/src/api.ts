// Same-origin calls to the Pingan API. The session is the HttpOnly cookie set
// at login, so no token is held in script.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    /** The offending field named by the problem document, if any. */
    readonly field: string | null = null,
  ) {
    super(detail);
  }
}

async function failure(response: Response): Promise<ApiError> {
  let detail = `${response.status} ${response.statusText}`;
  let field: string | null = null;
  try {
    const body = (await response.json()) as { detail?: unknown; title?: unknown; field?: unknown };
    if (typeof body.detail === "string") detail = body.detail;
    else if (typeof body.title === "string") detail = body.title;
    if (typeof body.field === "string") field = body.field;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, detail, field);
}

export type Query = Record<string, string | number | boolean | string[] | undefined>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) params.append(name, v);
    else params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export async function getJson<T>(path: string, query: Query = {}): Promise<T> {
  const response = await fetch(withQuery(path, query), {
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    credentials: "same-origin",
    body: JSON.stringify(body),
  });
  if (!response.ok) throw await failure(response);
  const text = await response.text();
  return (text ? JSON.parse(text) : null) as T;
}

export interface Me {
  user_id: number | null;
  username: string;
  via: string;
  grants: Array<{ org_unit_id: number; level: string; role: string; permissions: string[] }>;
}

export function hasPermission(me: Me, permission: string): boolean {
  return me.grants.some((g) => g.permissions.includes(permission));
}

export type Feature = GeoJSON.Feature;
export type FeatureCollection = GeoJSON.FeatureCollection;
