// The live fair: today's most viewed, saved and inquired profiles and the meetings requested
// and held per booth (GET /fair/live), refreshed every few seconds while the view is open.

import { getJson } from "../api.js";
import { clear, emptyBox, errorBox, h, table } from "../dom.js";
import { formatNumber, t } from "../i18n.js";

const REFRESH_SECONDS = 5;

function profileLink(id) {
  if (/^EXP\d{6}$/.test(id)) return h("a", { href: `#/continuity/${id}` }, id);
  return id;
}

function board(id, title, rows, column, key) {
  return h(
    "section",
    { class: "panel", "aria-labelledby": `${id}-heading`, id },
    h("h3", { id: `${id}-heading` }, title),
    rows.length
      ? table({
          caption: title,
          columns: [t("col.item"), column],
          rows: rows.map((row) => [profileLink(row.item_id), formatNumber(row[key], 0)]),
          className: "board",
        })
      : emptyBox(t("live.empty")),
  );
}

export async function render(section) {
  const area = h("div", { class: "live-area" });
  const updated = h("p", { class: "meta", id: "live-updated", role: "status", "aria-live": "polite" });
  const pause = h("button", { type: "button", class: "button button-quiet", id: "live-pause", "aria-pressed": "false" }, t("live.pause"));
  const now = h("button", { type: "button", class: "button", id: "live-refresh" }, t("live.refresh"));
  let timer = null;
  let paused = false;
  let busy = false;

  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      const body = await getJson("/fair/live", { limit: 10 });
      const totals = body.meetings_total || { exporters: 0, requested: 0, held: 0 };
      clear(
        area,
        h("p", { class: "subheading" }, t("live.day", { day: body.day }), " · ", h("span", { id: "live-totals" }, t("live.totals", totals))),
        h(
          "div",
          { class: "boards" },
          board("most-viewed", t("live.viewed"), body.most_viewed || [], t("col.views"), "views"),
          board("most-saved", t("live.saved"), body.most_saved || [], t("col.saves"), "saves"),
          board("most-inquired", t("live.inquired"), body.most_inquired || [], t("col.inquiries"), "inquiries"),
          h(
            "section",
            { class: "panel", "aria-labelledby": "meetings-heading", id: "meetings" },
            h("h3", { id: "meetings-heading" }, t("live.meetings")),
            (body.meetings || []).length
              ? table({
                  caption: t("live.meetings"),
                  columns: [t("col.booth"), t("col.requested"), t("col.held")],
                  rows: body.meetings.map((m) => [profileLink(m.exporter_id), formatNumber(m.requested, 0), formatNumber(m.held, 0)]),
                  className: "board",
                })
              : emptyBox(t("live.empty")),
          ),
        ),
      );
      updated.textContent = `${t("app.updated", { time: new Date().toLocaleTimeString() })} · ${t("live.every", { seconds: REFRESH_SECONDS })}`;
    } catch (error) {
      clear(area, errorBox(error));
    } finally {
      busy = false;
    }
  }

  function schedule() {
    window.clearInterval(timer);
    timer = paused ? null : window.setInterval(refresh, REFRESH_SECONDS * 1000);
  }

  pause.addEventListener("click", () => {
    paused = !paused;
    pause.setAttribute("aria-pressed", String(paused));
    pause.textContent = paused ? t("live.resume") : t("live.pause");
    schedule();
  });
  now.addEventListener("click", refresh);
  clear(section, h("h2", {}, t("live.heading")), h("div", { class: "toolbar" }, now, pause, updated), area);
  schedule();
  await refresh();
  return () => window.clearInterval(timer);
}
