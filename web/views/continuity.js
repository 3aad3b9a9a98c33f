// A firm's export continuity index over the years (a Chart.js line chart, with the same
// numbers in a table for screen readers and print), its status per year, its risk factors.

import { getJson } from "../api.js";
import { clear, emptyBox, errorBox, firmIdForm, h, loading, table } from "../dom.js";
import { formatNumber, regionName, sizeName, statusName, t } from "../i18n.js";

const FIRM_ID = /^(EXP\d{6}|BUY\d{7})$/;

function drawChart(canvas, history) {
  const Chart = window.Chart;
  if (!Chart) throw new Error("Chart.js is not loaded (vendor/chart.umd.min.js)");
  return new Chart(canvas, {
    type: "line",
    data: {
      labels: history.map((row) => String(row.year)),
      datasets: [
        {
          label: t("continuity.series"),
          data: history.map((row) => row.continuity_index),
          borderColor: "#1d4e89",
          backgroundColor: "#1d4e89",
          pointBackgroundColor: history.map((row) => (row.risk_group ? "#b3261e" : "#1d4e89")),
          pointRadius: 5,
          tension: 0.2,
          spanGaps: true,
        },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false, // drawn at once: no motion, and what a screenshot shows is final
      scales: { y: { min: 0, max: 1, title: { display: true, text: t("col.index") } } },
      plugins: { legend: { display: false } },
    },
  });
}

export async function render(section, route) {
  const firmId = (route.id || "").toUpperCase();
  const heading = h("h2", {}, t("continuity.heading"));
  if (!firmId) {
    clear(section, heading, firmIdForm("continuity", ""), emptyBox(t("continuity.none")));
    return null;
  }
  clear(section, heading, firmIdForm("continuity", firmId), loading());
  if (!FIRM_ID.test(firmId)) {
    clear(section, heading, firmIdForm("continuity", firmId), errorBox(new Error(`${firmId}: EXP000000 / BUY0000000`)));
    return null;
  }
  let body;
  try {
    body = await getJson(`/firms/${firmId}/continuity`);
  } catch (error) {
    clear(section, heading, firmIdForm("continuity", firmId), errorBox(error));
    return null;
  }
  const latest = body.latest || {};
  const history = body.history || [];
  const canvas = h("canvas", { id: "continuity-chart", role: "img", "aria-label": t("continuity.chartLabel") });
  const factors = latest.risk_factors || [];
  clear(
    section,
    heading,
    firmIdForm("continuity", firmId),
    h(
      "div",
      { class: "firm-summary" },
      h("h3", {}, body.name || firmId, " ", h("span", { class: "firm-id" }, firmId)),
      h(
        "p",
        { class: "meta" },
        t("continuity.profile", { region: regionName(body.region) || "–", hs: body.hs_chapter || "–", size: sizeName(body.size_band) || "–" }),
        " ",
        firmId.startsWith("EXP") ? h("a", { href: `#/matches/${firmId}` }, t("link.matches")) : null,
        firmId.startsWith("EXP") ? " " : null,
        firmId.startsWith("EXP") ? h("a", { href: `#/markets/${firmId}` }, t("link.markets")) : null,
      ),
      h(
        "p",
        { class: "headline" },
        h("span", { class: "headline-label" }, t("continuity.latest", { year: latest.year })),
        h("strong", { class: "headline-value", id: "latest-index" }, formatNumber(latest.continuity_index, 3)),
        h(
          "span",
          { class: `badge ${latest.risk_group ? "badge-risk" : "badge-ok"}` },
          latest.risk_group ? t("continuity.inRisk") : t("continuity.notInRisk"),
        ),
        h("span", { class: "badge" }, statusName(latest.status)),
      ),
    ),
    h("div", { class: "panels" },
      h("figure", { class: "chart-panel" }, h("div", { class: "chart-box" }, canvas), h("figcaption", {}, t("continuity.chartLabel"))),
      h(
        "section",
        { class: "panel", "aria-labelledby": "factors-heading" },
        h("h3", { id: "factors-heading" }, t("continuity.factors", { year: latest.year })),
        factors.length ? h("ol", { class: "factors" }, factors.map((f) => h("li", {}, f))) : emptyBox(t("continuity.noFactors")),
      ),
    ),
    h("h3", {}, t("continuity.history")),
    history.length
      ? table({
          caption: t("continuity.history"),
          columns: [t("col.year"), t("col.index"), t("col.status"), t("col.riskGroup"), t("col.riskFactors")],
          rows: history.map((row) => [
            String(row.year),
            formatNumber(row.continuity_index, 3),
            statusName(row.status),
            row.risk_group ? t("yes") : t("no"),
            (row.risk_factors || []).join(" · "),
          ]),
          className: "history",
        })
      : emptyBox(),
  );
  const chart = drawChart(canvas, history);
  return () => chart.destroy();
}
