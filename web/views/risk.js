// The risk group: a table filtered by HS chapter, region and size (GET /risk-group, a page at a
// time), its CSV export (format=csv), and the comparison with continuing firms
// (GET /risk-group/profile).

import { getCsv, getJson } from "../api.js";
import { announce, clear, emptyBox, errorBox, h, loading, table } from "../dom.js";
import { REGIONS, formatNumber, formatShare, regionName, sizeName, statusName, t } from "../i18n.js";

const SIZES = ["small", "medium", "large"];
const LIMITS = ["25", "50", "100", "200"];
const FILTERS = ["hs_chapter", "region", "size_band"];

function select(id, name, label, options, current) {
  return [
    h("label", { for: id }, label),
    h(
      "select",
      { id, name },
      options.map(([value, text]) => h("option", { value, selected: value === current }, text)),
    ),
  ];
}

function filterForm(params) {
  const hs = h("input", {
    id: "risk-hs",
    name: "hs_chapter",
    inputmode: "numeric",
    pattern: "(0[1-9]|[1-8][0-9]|9[0-7])",
    maxlength: "2",
    size: "3",
    value: params.hs_chapter || "",
    "aria-describedby": "risk-hs-hint",
  });
  return h(
    "form",
    {
      class: "filters",
      "aria-label": t("risk.filters"),
      onsubmit: (event) => {
        event.preventDefault();
        const data = new FormData(event.target);
        const query = new URLSearchParams();
        for (const [name, value] of data.entries()) if (String(value).trim()) query.set(name, String(value).trim());
        window.location.hash = `#/risk?${query}`;
      },
    },
    h("div", { class: "field" }, h("label", { for: "risk-hs" }, t("risk.hs")), hs, h("span", { id: "risk-hs-hint", class: "hint" }, "01–97")),
    h("div", { class: "field" }, select("risk-region", "region", t("risk.region"), [["", t("risk.all")], ...REGIONS.map((r) => [r, regionName(r)])], params.region || "")),
    h("div", { class: "field" }, select("risk-size", "size_band", t("risk.size"), [["", t("risk.all")], ...SIZES.map((s) => [s, sizeName(s)])], params.size_band || "")),
    h("div", { class: "field" }, select("risk-limit", "limit", t("risk.limit"), LIMITS.map((l) => [l, l]), params.limit || "50")),
    h("div", { class: "field field-actions" }, h("button", { type: "submit", class: "button", id: "risk-apply" }, t("risk.apply"))),
  );
}

function firmRows(firms) {
  return firms.map((firm) => [
    h("a", { href: `#/continuity/${firm.firm_id}` }, firm.firm_id),
    firm.name || "",
    regionName(firm.region),
    firm.hs_chapter || "",
    sizeName(firm.size_band),
    formatNumber(firm.continuity_index, 3),
    statusName(firm.status),
    (firm.risk_factors || []).join(" · "),
  ]);
}

function columns() {
  return [t("col.firmId"), t("col.name"), t("col.region"), t("col.hs"), t("col.size"), t("col.index"), t("col.status"), t("col.riskFactors")];
}

async function loadGroup(area, params) {
  clear(area, loading());
  let cursor = null;
  let firms = [];
  let year = null;
  const more = h("button", { type: "button", class: "button button-quiet", id: "risk-more" }, t("risk.more"));
  const csv = h("button", { type: "button", class: "button", id: "risk-csv" }, t("risk.csv"));
  const csvState = h("span", { class: "csv-state", "aria-live": "polite" });

  csv.addEventListener("click", async () => {
    csv.disabled = true;
    try {
      const { blob, name } = await getCsv("/risk-group", { ...params, cursor: undefined });
      const link = h("a", { href: URL.createObjectURL(blob), download: name, hidden: true });
      document.body.append(link);
      link.click();
      window.setTimeout(() => {
        URL.revokeObjectURL(link.href);
        link.remove();
      }, 1000);
      csvState.textContent = t("risk.downloaded");
    } catch (error) {
      csvState.replaceChildren(errorBox(error));
    } finally {
      csv.disabled = false;
    }
  });

  function draw() {
    const summary = t("risk.count", { year, count: firms.length }) + (cursor ? ` ${t("risk.moreAvailable")}` : "");
    announce(summary);
    const tools = h("div", { class: "toolbar" }, csv, csvState);
    if (!firms.length) {
      clear(area, tools, emptyBox(t("risk.empty")));
      return;
    }
    more.hidden = !cursor;
    clear(
      area,
      tools,
      h("p", { class: "meta", id: "risk-count" }, summary),
      table({ caption: summary, columns: columns(), rows: firmRows(firms), className: "risk-table" }),
      more,
    );
  }

  async function page() {
    more.disabled = true;
    try {
      const body = await getJson("/risk-group", { ...params, cursor });
      year = body.year;
      firms = firms.concat(body.firms || []);
      cursor = body.next_cursor;
      draw();
    } catch (error) {
      clear(area, errorBox(error));
    } finally {
      more.disabled = false;
    }
  }

  more.addEventListener("click", page);
  await page();
}

function describe(row) {
  if (!row) return "–";
  if (row.kind === "categorical") {
    return t("risk.top", { category: row.top_category ?? "–", share: formatShare(row.top_share) });
  }
  return t("risk.median", {
    median: formatNumber(row.median, 3),
    p25: formatNumber(row.p25, 3),
    p75: formatNumber(row.p75, 3),
    mean: formatNumber(row.mean, 3),
  });
}

async function loadProfile(area) {
  clear(area, loading());
  try {
    const body = await getJson("/risk-group/profile");
    const byVariable = new Map();
    for (const row of body.rows || []) {
      if (!byVariable.has(row.variable)) byVariable.set(row.variable, {});
      byVariable.get(row.variable)[row.group_name] = row;
    }
    if (!byVariable.size) {
      clear(area, emptyBox(t("risk.compareEmpty")));
      return;
    }
    const firmsOf = (group) => [...byVariable.values()].map((v) => v[group]?.firms).find((n) => n !== undefined);
    clear(
      area,
      table({
        caption: t("risk.compareCaption", { year: body.year, version: body.model_version || "–" }),
        columns: [
          t("col.variable"),
          `${t("col.riskStats")} (${t("risk.firms", { n: firmsOf("risk") ?? "–" })})`,
          `${t("col.continuingStats")} (${t("risk.firms", { n: firmsOf("continuing") ?? "–" })})`,
        ],
        rows: [...byVariable.entries()].map(([variable, groups]) => [variable, describe(groups.risk), describe(groups.continuing)]),
        className: "profile-table",
      }),
    );
  } catch (error) {
    clear(area, errorBox(error));
  }
}

export async function render(section, route) {
  const params = {};
  for (const name of [...FILTERS, "limit"]) {
    const value = route.params.get(name);
    if (value) params[name] = value;
  }
  params.limit = params.limit || "50";
  const groupArea = h("div", { class: "results-area" });
  const profileArea = h("div", { class: "results-area" });
  clear(
    section,
    h("h2", {}, t("risk.heading")),
    filterForm(params),
    groupArea,
    h("section", { class: "panel", "aria-labelledby": "compare-heading" }, h("h3", { id: "compare-heading" }, t("risk.compare")), profileArea),
  );
  await Promise.all([loadGroup(groupArea, params), loadProfile(profileArea)]);
  return null;
}
