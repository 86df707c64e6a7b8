// The JSON API at /api/v1, as the dashboard uses it. URLs are relative to the page, so a
// reverse proxy that serves the daemon under a prefix serves the dashboard too. Every POST is
// a same-origin fetch with a JSON body: the daemon refuses cross-site and form-encoded ones.

export const API = "api/v1";

export class ApiError extends Error {
  constructor(status, detail, fault) {
    super(detail);
    this.status = status;
    this.fault = fault;
  }
}

/** The path of a namespec (name, group:name, group:*, all) in a URL: one segment. */
export function pathOf(namespec) {
  return encodeURIComponent(namespec).replace(/%3A/g, ":").replace(/%2A/g, "*");
}

async function failure(response) {
  let detail = `${response.status} ${response.statusText}`;
  let fault = null;
  const type = response.headers.get("Content-Type") || "";
  try {
    if (type.includes("json")) {
      const problem = await response.json();
      detail = problem.detail || problem.title || detail;
      fault = problem.fault ? problem.fault.name : null;
    } else {
      detail = (await response.text()).trim() || detail;
    }
  } catch {
    // the body was not what its type said: the status line is all there is to say
  }
  return new ApiError(response.status, detail, fault);
}

export async function getJSON(path, init) {
  const response = await fetch(`${API}/${path}`, { cache: "no-store", ...init });
  if (!response.ok) throw await failure(response);
  return response.json();
}

export async function getText(path) {
  const response = await fetch(`${API}/${path}`, { cache: "no-store" });
  if (!response.ok) throw await failure(response);
  return response.text();
}

/** POST an action; the answer document, or an ApiError naming the fault. */
export async function act(namespec, action, options = {}) {
  const response = await fetch(`${API}/processes/${pathOf(namespec)}/${action}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(options),
    cache: "no-store",
  });
  if (!response.ok) throw await failure(response);
  return response.json();
}

/** The failed parts of a group's answer (its results and its stop's), as "name: status". */
export function failuresOf(answer) {
  const failed = [];
  for (const part of [answer, answer && answer.stopped]) {
    if (!part || !Array.isArray(part.results)) continue;
    for (const result of part.results) {
      if (result.status !== "SUCCESS") {
        failed.push(`${result.namespec}: ${result.status} ${result.description || ""}`.trim());
      }
    }
  }
  return failed;
}
