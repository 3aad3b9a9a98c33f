// Firm search by name or id (GET /firms/search): links to the firm's matches and continuity,
// and an exporter's markets to try.

import { getJson } from "../api.js";
import { announce, clear, emptyBox, errorBox, h, loading, table } from "../dom.js";
import { regionName, t } from "../i18n.js";

const FIRM_ID = /^(EXP\d{6}|BUY\d{7})$/i;

function links(firmId, kind) {
  return h(
    "span",
    { class: "link-list" },
    kind === "exporter" || kind === "buyer"
      ? h("a", { href: `#/matches/${encodeURIComponent(firmId)}` }, t("link.matches"))
      : null,
    h("a", { href: `#/continuity/${encodeURIComponent(firmId)}` }, t("link.continuity")),
    kind === "exporter"
      ? h("a", { href: `#/markets/${encodeURIComponent(firmId)}` }, t("link.markets"))
      : null,
  );
}

async function runSearch(query, results) {
  clear(results, loading());
  const direct = FIRM_ID.test(query)
    ? h(
        "p",
        { class: "direct" },
        `${t("search.direct")}: `,
        links(query.toUpperCase(), query.toUpperCase().startsWith("EXP") ? "exporter" : "buyer"),
      )
    : null;
  try {
    const body = await getJson("/firms/search", { q: query, limit: 20 });
    const found = body.results || [];
    const summary = t("search.results", { count: found.length });
    announce(summary);
    if (!found.length) {
      clear(results, direct, emptyBox(t("search.empty")));
      return;
    }
    clear(
      results,
      direct,
      table({
        caption: summary,
        columns: [t("col.firmId"), t("col.kind"), t("col.name"), t("col.location"), t("col.hs"), t("col.actions")],
        rows: found.map((firm) => [
          firm.firm_id,
          t(`kind.${firm.kind}`),
          firm.name || "",
          firm.region ? regionName(firm.region) : firm.country || "",
          (firm.hs_chapters || []).join(", "),
          links(firm.firm_id, firm.kind),
        ]),
        className: "results",
      }),
    );
  } catch (error) {
    clear(results, direct, errorBox(error));
  }
}

export async function render(section, route) {
  const query = route.params.get("q") || "";
  const input = h("input", {
    id: "search-q",
    name: "q",
    type: "search",
    required: true,
    autocomplete: "off",
    value: query,
    "aria-describedby": "search-hint",
  });
  const results = h("div", { class: "results-area", "aria-live": "polite" });
  const form = h(
    "form",
    {
      class: "toolbar",
      role: "search",
      onsubmit: (event) => {
        event.preventDefault();
        const value = input.value.trim();
        if (value) window.location.hash = `#/search?q=${encodeURIComponent(value)}`;
      },
    },
    h("label", { for: "search-q" }, t("search.label")),
    input,
    h("button", { type: "submit", class: "button" }, t("search.submit")),
    h("p", { id: "search-hint", class: "hint" }, t("search.hint")),
  );
  clear(section, h("h2", {}, t("search.heading")), form, results);
  if (query) await runSearch(query, results);
  else input.focus();
}
