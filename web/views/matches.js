// An exporter's (or a buyer's) matches: at most 10 counterparts with score and reasons, save
// and dismiss (posted to the API, which also puts them on the clickstream), and a new draw of
// the fair exploration on refresh.

import { getJson, postJson } from "../api.js";
import { announce, clear, emptyBox, errorBox, firmIdForm, h, loading } from "../dom.js";
import { formatNumber, regionName, t } from "../i18n.js";

const FIRM_PATTERN = "(EXP[0-9]{6}|BUY[0-9]{7})";

const EXPORTER = /^EXP\d{6}$/;
const BUYER = /^BUY\d{7}$/;
const SHOWN = 10;

function card(match, firmId, exporterSide, onDone) {
  const otherId = exporterSide ? match.buyer_id : match.exporter_id;
  const exporterId = exporterSide ? firmId : otherId;
  const buyerId = exporterSide ? otherId : firmId;
  const name = match.name || otherId;
  const state = h("span", { class: "match-state", "aria-live": "polite" });
  const act = async (action, button) => {
    for (const b of buttons.querySelectorAll("button")) b.disabled = true;
    try {
      await postJson(`/matches/${exporterId}/${buyerId}/${action}`);
      state.textContent = t(action === "save" ? "matches.saved" : "matches.dismissed");
      item.dataset.state = action;
      announce(t(action === "save" ? "matches.savedNotice" : "matches.dismissedNotice", { name }));
      onDone();
    } catch (error) {
      for (const b of buttons.querySelectorAll("button")) b.disabled = false;
      state.replaceChildren(errorBox(error));
      button.focus();
    }
  };
  const save = h("button", { type: "button", class: "button", "data-action": "save", "aria-label": `${t("matches.save")}: ${name}` }, t("matches.save"));
  const dismiss = h("button", { type: "button", class: "button button-quiet", "data-action": "dismiss", "aria-label": `${t("matches.dismiss")}: ${name}` }, t("matches.dismiss"));
  save.addEventListener("click", () => act("save", save));
  dismiss.addEventListener("click", () => act("dismiss", dismiss));
  const buttons = h("div", { class: "match-actions" }, save, dismiss, state);
  const score = Number(match.score);
  const item = h(
    "li",
    { class: "match", dataset: { id: otherId } },
    h(
      "div",
      { class: "match-head" },
      h("span", { class: "match-position", "aria-label": t("col.position") }, String(match.position)),
      h("h3", { class: "match-name" }, name, " ", h("span", { class: "firm-id" }, otherId)),
      h("span", { class: "match-where" }, match.country || regionName(match.region) || ""),
      h(
        "span",
        { class: "match-score" },
        `${t("col.score")} `,
        h("strong", {}, formatNumber(score, 3)),
        h("meter", { min: "0", max: "1", value: String(Math.max(0, Math.min(1, score))), "aria-label": t("col.score") }),
      ),
    ),
    h("ul", { class: "reasons", "aria-label": t("col.reasons") }, (match.reasons || []).map((r) => h("li", {}, r))),
    buttons,
  );
  return item;
}

export async function render(section, route) {
  const firmId = (route.id || "").toUpperCase();
  const heading = h("h2", {}, t("matches.heading"));
  const results = h("div", { class: "results-area" });
  if (!firmId) {
    clear(section, heading, firmIdForm("matches", "", FIRM_PATTERN), emptyBox(t("matches.none")));
    return null;
  }
  if (!EXPORTER.test(firmId) && !BUYER.test(firmId)) {
    clear(section, heading, firmIdForm("matches", firmId, FIRM_PATTERN), errorBox(new Error(`${firmId}: EXP000000 / BUY0000000`)));
    return null;
  }
  const exporterSide = EXPORTER.test(firmId);
  let draws = 0;
  const drawLabel = h("span", { class: "draw-label", "aria-live": "polite" });
  const refresh = h("button", { type: "button", class: "button", id: "matches-refresh", "aria-describedby": "refresh-hint" }, t("matches.refresh"));

  async function load() {
    draws += 1;
    refresh.disabled = true;
    clear(results, loading());
    const route_ = exporterSide ? `/exporters/${firmId}/matches` : `/buyers/${firmId}/matches`;
    // A fresh seed per draw: the fair exploration shows other firms from the top of the list.
    const seed = Math.floor(Math.random() * 2 ** 31);
    try {
      const body = await getJson(route_, { k: SHOWN, seed });
      drawLabel.textContent = t("matches.draw", { n: draws });
      const list = body.matches || [];
      const meta = h(
        "p",
        { class: "meta" },
        t(`matches.source.${body.source}`, { version: body.model_version || "–" }),
        " · ",
        t("matches.pool", { pool: body.pool, filtered: body.filtered_out }),
      );
      if (!list.length) {
        clear(results, meta, emptyBox(t("matches.empty")));
      } else {
        clear(
          results,
          meta,
          h("ol", { class: "match-list", "aria-label": t("matches.for", { id: firmId }) }, list.map((m) => card(m, firmId, exporterSide, () => {}))),
        );
      }
      announce(`${t("matches.for", { id: firmId })}: ${list.length}`);
    } catch (error) {
      clear(results, errorBox(error));
    } finally {
      refresh.disabled = false;
    }
  }

  refresh.addEventListener("click", load);
  clear(
    section,
    heading,
    firmIdForm("matches", firmId, FIRM_PATTERN),
    h(
      "p",
      { class: "subheading" },
      t("matches.for", { id: firmId }),
      " ",
      h("a", { href: `#/continuity/${firmId}` }, t("link.continuity")),
      exporterSide ? " " : null,
      exporterSide ? h("a", { href: `#/markets/${firmId}` }, t("link.markets")) : null,
    ),
    h("div", { class: "toolbar" }, refresh, drawLabel),
    h("p", { id: "refresh-hint", class: "hint" }, t("matches.refreshHint")),
    results,
  );
  await load();
  return null;
}
