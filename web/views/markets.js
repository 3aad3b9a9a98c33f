// Markets to try: an exporter's top five destination countries by the market model, each with
// its score (a bar and a percentage) and the reasons in the current language, the countries it
// exports to already, the as-of year and the model version. A firm the model knows little about
// (a novice, or one that joined after the scoring) is told the list rests on its HS code and size.

import { getJson } from "../api.js";
import { announce, clear, emptyBox, errorBox, firmIdForm, h, loading } from "../dom.js";
import { formatShare, sizeName, t } from "../i18n.js";

// A buyer id goes to the API too, which says why it has no markets.
const FIRM_ID = /^(EXP\d{6}|BUY\d{7})$/;
const EXPORTER_PATTERN = "EXP[0-9]{6}";

function marketItem(market) {
  const score = Math.max(0, Math.min(1, Number(market.score) || 0));
  return h(
    "li",
    { class: "market", dataset: { country: market.country_code } },
    h(
      "div",
      { class: "match-head" },
      h("span", { class: "match-position", "aria-label": t("col.position") }, String(market.rank)),
      h("h3", { class: "match-name market-country" }, market.country_code),
      h(
        "span",
        { class: "match-score" },
        `${t("col.score")} `,
        h("strong", { class: "market-share" }, formatShare(score)),
        h("meter", { min: "0", max: "1", value: String(score), "aria-label": `${t("col.score")}: ${market.country_code}` }),
      ),
    ),
    h("ul", { class: "reasons", "aria-label": t("col.reasons") }, (market.reasons || []).map((r) => h("li", {}, r))),
  );
}

function summary(body, firmId) {
  const basis = body.source === "cold_start" || body.novice;
  const current = body.current_markets || [];
  return h(
    "div",
    { class: "firm-summary" },
    h("h3", {}, body.name || firmId, " ", h("span", { class: "firm-id" }, firmId)),
    h(
      "p",
      { class: "meta", id: "markets-meta" },
      t("markets.asOf", { year: body.as_of_year, version: body.model_version || "–" }),
      " · ",
      t("markets.profile", { hs: body.hs_chapter || "–", size: sizeName(body.size_band) || "–" }),
    ),
    basis ? h("p", { class: "notice notice-empty markets-basis", id: "markets-basis" }, t(body.source === "cold_start" ? "markets.coldStart" : "markets.novice")) : null,
    h(
      "p",
      { class: "current-markets", id: "markets-current" },
      h("span", { class: "headline-label" }, `${t("markets.current")}: `),
      current.length
        ? current.map((code) => h("span", { class: "badge badge-ok current-market", dataset: { country: code } }, code, " ", h("span", { class: "visually-hidden" }, t("markets.currentMark"))))
        : t("markets.noCurrent"),
    ),
  );
}

export async function render(section, route) {
  const firmId = (route.id || "").toUpperCase();
  const heading = h("h2", {}, t("markets.heading"));
  if (!firmId) {
    clear(section, heading, firmIdForm("markets", "", EXPORTER_PATTERN), emptyBox(t("markets.none")));
    return null;
  }
  clear(section, heading, firmIdForm("markets", firmId, EXPORTER_PATTERN), loading());
  if (!FIRM_ID.test(firmId)) {
    clear(section, heading, firmIdForm("markets", firmId, EXPORTER_PATTERN), errorBox(new Error(`${firmId}: EXP000000`)));
    return null;
  }
  let body;
  try {
    body = await getJson(`/firms/${firmId}/markets`);
  } catch (error) {
    clear(section, heading, firmIdForm("markets", firmId, EXPORTER_PATTERN), errorBox(error));
    return null;
  }
  const list = body.markets || [];
  const links = h(
    "p",
    { class: "subheading" },
    h("span", { class: "link-list" },
      h("a", { href: `#/matches/${firmId}` }, t("link.matches")),
      h("a", { href: `#/continuity/${firmId}` }, t("link.continuity")),
    ),
  );
  clear(
    section,
    heading,
    firmIdForm("markets", firmId, EXPORTER_PATTERN),
    links,
    summary(body, firmId),
    list.length
      ? h("ol", { class: "match-list market-list", "aria-label": t("markets.for", { id: firmId }) }, list.map(marketItem))
      : emptyBox(t("markets.empty")),
  );
  announce(`${t("markets.for", { id: firmId })}: ${list.length}`);
  return null;
}
