// The dashboard's shell: configuration and sign-in, the language switch, and a hash router
// that shows one view at a time (#/search, #/matches/<id>, #/continuity/<id>, #/markets/<id>,
// #/risk, #/live).

import { loadConfig } from "./api.js";
import { accessToken, forgetToken, signOutUrl } from "./auth.js";
import { clear, errorBox } from "./dom.js";
import { language, setLanguage, t, translate } from "./i18n.js";
import * as continuity from "./views/continuity.js";
import * as live from "./views/live.js";
import * as markets from "./views/markets.js";
import * as matches from "./views/matches.js";
import * as risk from "./views/risk.js";
import * as search from "./views/search.js";

const VIEWS = { search, matches, continuity, markets, risk, live };
const main = document.getElementById("main");
let cleanup = null;
let shown = 0; // the latest show(): a slower earlier one must not keep its timers

/** `#/matches/EXP000001?explore=1` -> {view: "matches", id: "EXP000001", params}. */
export function parseRoute(hash) {
  const [path, query = ""] = (hash || "").replace(/^#\/?/, "").split("?");
  const [view, id] = path.split("/");
  return {
    view: VIEWS[view] ? view : "search",
    id: id ? decodeURIComponent(id) : "",
    params: new URLSearchParams(query),
  };
}

async function show() {
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  const current = ++shown;
  const route = parseRoute(window.location.hash);
  for (const link of document.querySelectorAll(".site-nav a")) {
    if (link.dataset.view === route.view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${t(`nav.${route.view}`)} · ${t("app.title")}`;
  const section = document.createElement("section");
  section.className = `view view-${route.view}`;
  section.dataset.view = route.view;
  clear(main, section);
  let done = null;
  try {
    done = (await VIEWS[route.view].render(section, route)) || null;
  } catch (error) {
    clear(section, errorBox(error));
  }
  if (current !== shown) {
    if (done) done(); // another view took over meanwhile
    return;
  }
  cleanup = done;
  document.body.dataset.ready = route.view;
}

function switchLanguage() {
  setLanguage(language() === "ko" ? "en" : "ko");
  translate();
  const button = document.getElementById("language-switch");
  button.lang = language() === "ko" ? "en" : "ko";
  show();
}

async function start() {
  setLanguage(language());
  translate();
  document.getElementById("language-switch").lang = language() === "ko" ? "en" : "ko";
  document.getElementById("language-switch").addEventListener("click", switchLanguage);
  window.addEventListener("hashchange", show);
  try {
    const config = await loadConfig();
    await accessToken(config); // in AWS this may go to the sign-in page first
    const out = signOutUrl(config);
    const link = document.getElementById("sign-out");
    if (out) {
      link.href = out;
      link.hidden = false;
      link.addEventListener("click", forgetToken);
    }
  } catch (error) {
    clear(main, errorBox(error));
    document.body.dataset.ready = "error";
    return;
  }
  await show();
}

start();
