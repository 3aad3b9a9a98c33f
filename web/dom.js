// Small DOM helpers: elements built with textContent only (API text is never parsed as HTML).

import { t } from "./i18n.js";

/** `h("a", {href: "#x", class: "link"}, "text", child)`; `on*` attributes become listeners. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** A table with a caption and column headers, scrolling sideways on narrow screens. */
export function table({ caption, columns, rows, label, className }) {
  const head = h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c))));
  const body = h(
    "tbody",
    {},
    rows.map((cells) =>
      h("tr", {}, cells.map((cell, i) => (i === 0 ? h("th", { scope: "row" }, cell) : h("td", {}, cell)))),
    ),
  );
  const element = h("table", { class: className }, caption ? h("caption", {}, caption) : null, head, body);
  return h("div", { class: "table-wrap", role: "region", tabindex: "0", "aria-label": label || caption }, element);
}

export function errorBox(error) {
  const status = error && error.status ? ` (${t("error.status", { status: error.status })})` : "";
  return h(
    "div",
    { class: "notice notice-error", role: "alert" },
    h("strong", {}, t("error.title") + status),
    h("p", { class: "error-message" }, (error && error.message) || String(error)),
  );
}

export function emptyBox(text) {
  return h("p", { class: "notice notice-empty" }, text || t("empty.none"));
}

export function loading() {
  return h("p", { class: "loading", role: "status" }, t("app.loading"));
}

/** Say `text` to screen readers (the page's polite live region). */
export function announce(text) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  window.setTimeout(() => {
    region.textContent = text;
  }, 50);
}

export function clear(element, ...children) {
  element.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
}

/**
 * The firm-id form of a view: `view` names its route (`#/<view>/<id>`), its input id and its
 * strings (`<view>.idLabel`, `<view>.show`); `pattern`, if given, is what the input accepts.
 */
export function firmIdForm(view, current, pattern = undefined) {
  const id = `${view}-id`;
  const input = h("input", { id, name: "id", required: true, value: current, autocomplete: "off", pattern });
  return h(
    "form",
    {
      class: "toolbar",
      onsubmit: (event) => {
        event.preventDefault();
        const value = input.value.trim().toUpperCase();
        if (value) window.location.hash = `#/${view}/${encodeURIComponent(value)}`;
      },
    },
    h("label", { for: id }, t(`${view}.idLabel`)),
    input,
    h("button", { type: "submit", class: "button" }, t(`${view}.show`)),
  );
}
