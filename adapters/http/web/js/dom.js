// dom.js — the only way the client builds elements, and its modal dialogs (with where the focus
// goes back when one closes).
// h(tag, attrs, ...children) creates an element; every string child becomes a text node, so user
// text can never become markup. It must never parse strings as HTML, and never set a URL
// attribute from user text (links are made only by format.js's linkify, which checks the scheme).

const PROPS = new Set(["value", "checked", "disabled", "hidden", "selected", "open", "required", "readOnly", "multiple"]);

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") for (const [dk, dv] of Object.entries(v)) { if (dv != null) el.dataset[dk] = String(dv); }
    else if (PROPS.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  add(el, children);
  return el;
}

export function add(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

// Keyed update of a container's children: elements are reused by key (so focus and scroll
// survive re-renders) and only moved when out of place.
export function reconcile(parent, items, keyOf, create, update) {
  const old = new Map();
  for (const el of parent.children) if (el.dataset.key) old.set(el.dataset.key, el);
  let i = 0;
  for (const item of items) {
    const key = keyOf(item);
    let el = old.get(key);
    if (el) { old.delete(key); if (update) el = update(el, item) || el; }
    else { el = create(item); el.dataset.key = key; }
    el.dataset.key = key;
    const at = parent.children[i];
    if (at !== el) parent.insertBefore(el, at || null);
    i++;
  }
  for (const el of old.values()) el.remove();
}

// A modal <dialog>: Escape closes it natively, focus stays inside while open.
export function dialog(title, testid, ...content) {
  const d = h("dialog", { "data-testid": testid, "aria-labelledby": testid + "-title", class: "dlg" },
    h("div", { class: "dlg-head" },
      h("h2", { id: testid + "-title" }, title),
      h("button", { type: "button", class: "icon-btn", "aria-label": "Close", onclick: () => d.close() }, "×")),
    ...content);
  d.addEventListener("close", () => d.remove());
  document.body.append(d);
  d.showModal();
  return d;
}

// Where the focus goes back when a dialog closes: `from`, the control that opened it, or — when
// the view was redrawn meanwhile (a live reply or reaction redraws its message) — the control
// of the same test id in the same message (or the page's only one). Returns the function to
// call on close.
export function focusBack(from) {
  if (!from) return () => {};
  const testid = from.dataset.testid;
  const msg = from.closest("[data-testid=message][data-id]");
  const id = msg && msg.dataset.id;
  return () => {
    let to = from.isConnected ? from : null;
    if (!to && testid) {
      const sel = `[data-testid="${CSS.escape(testid)}"]`;
      to = id ? document.querySelector(`[data-testid=message][data-id="${CSS.escape(id)}"] ${sel}`)
        : document.querySelectorAll(sel).length === 1 ? document.querySelector(sel) : null;
    }
    if (to) to.focus();
  };
}

// Announce to screen readers through the one polite live region.
export function announce(text) {
  const live = document.getElementById("live");
  if (!live) return;
  live.textContent = "";
  setTimeout(() => { live.textContent = text; }, 50);
}

export function field(label, input, hint) {
  const id = input.id || (input.id = "f-" + Math.random().toString(36).slice(2, 9));
  return h("div", { class: "field" }, h("label", { for: id }, label), input, hint ? h("small", { class: "hint" }, hint) : null);
}
