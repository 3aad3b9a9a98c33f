// Calls to the API: `<apiBase><route>` on the same origin, with the bearer token and the
// reply language. A refused call throws an ApiError carrying the API's own message.

import { accessToken, forgetToken } from "./auth.js";
import { language, t } from "./i18n.js";

let config = null;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function loadConfig() {
  if (config) return config;
  let response;
  try {
    response = await fetch("config.json", { cache: "no-store" });
  } catch {
    throw new ApiError(0, "config", t("error.config"));
  }
  if (!response.ok) throw new ApiError(response.status, "config", t("error.config"));
  config = await response.json();
  return config;
}

function url(route, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") query.set(name, String(value));
  }
  const text = query.toString();
  return `${config.apiBase || ""}${route}${text ? `?${text}` : ""}`;
}

async function send(route, { method = "GET", params, body, accept = "application/json" } = {}) {
  await loadConfig();
  const headers = {
    Authorization: `Bearer ${await accessToken(config)}`,
    "Accept-Language": language(),
    Accept: accept,
  };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url(route, params), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "network", t("error.network"));
  }
  if (!response.ok) {
    if (response.status === 401) forgetToken();
    const problem = await response.json().catch(() => ({}));
    throw new ApiError(
      response.status,
      problem.error || "error",
      problem.message || `${t("error.status", { status: response.status })}`,
    );
  }
  return response;
}

export async function getJson(route, params) {
  return (await send(route, { params })).json();
}

export async function postJson(route, body) {
  return (await send(route, { method: "POST", body })).json();
}

/** A CSV reply as a Blob and the file name the API suggests. */
export async function getCsv(route, params) {
  const response = await send(route, { params: { ...params, format: "csv" }, accept: "text/csv" });
  const disposition = response.headers.get("Content-Disposition") || "";
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] || "export.csv";
  return { blob: await response.blob(), name };
}
