// views/search.js — message search: the form in the sidebar and a dialog of results; choosing a
// result opens its conversation around that message and highlights it. It must never show a
// result's text as anything but text.
import { h, dialog } from "../dom.js";
import { S } from "../state.js";
import * as chat from "../chat.js";
import * as names from "../names.js";
import * as api from "../api.js";
import { fullTime } from "../format.js";

let jump = () => {};
export function onJump(fn) { jump = fn; }

export function form() {
  const input = h("input", { name: "q", id: "search-q", type: "search", required: true, maxlength: 256, placeholder: "Search messages", autocomplete: "off" });
  const f = h("form", { class: "search", "data-testid": "search-form", role: "search" },
    h("label", { for: "search-q", class: "sr-only" }, "Search messages"), input,
    h("button", { type: "submit", "aria-label": "Search" }, "Search"));
  f.addEventListener("submit", (e) => { e.preventDefault(); run(input.value.trim()); });
  return f;
}

async function run(q) {
  if (!q) return;
  const out = h("div", { class: "results", role: "status" }, "Searching…");
  const d = dialog(`Results for “${q}”`, "search-results", out);
  let r;
  try { r = await api.get(`/search/messages?q=${encodeURIComponent(q)}&limit=50`); }
  catch (ex) { out.textContent = api.explain(ex); return; }
  if (!r.messages.length) { out.textContent = "Nothing found."; return; }
  for (const m of r.messages) names.want(m.sender_id);
  out.removeAttribute("role");
  const ul = h("ul", { class: "result-list" }, ...r.messages.map((m) => {
    const g = S.groups.get(m.group_id);
    return h("li", null, h("button", { type: "button", class: "result", "data-testid": "search-result", "data-group-id": m.group_id, "data-seq": m.seq, onclick: () => { d.close(); jump(m.group_id, m.seq); } },
      h("span", { class: "result-head" }, h("strong", null, g ? chat.groupTitle(g) : "conversation"), " · ", g && g.expires_at ? "Stranger" : names.name(m.sender_id), " · ", fullTime(m.created_at)),
      h("span", { class: "result-body" }, m.body.length > 240 ? m.body.slice(0, 240) + "…" : m.body)));
  }));
  out.replaceChildren(h("p", { class: "note" }, `${r.messages.length} found`), ul);
  const first = ul.querySelector("button"); if (first) first.focus();
}
