// views/pool.js — "Talk to a stranger": join the matching pool (optionally same country), the
// waiting state in the sidebar, leaving it; a match opens the new room. It must never reveal
// the partner's identity in the UI of the room (they are "Stranger").
import { h, dialog, announce } from "../dom.js";
import { S, on, emit } from "../state.js";
import * as api from "../api.js";
import * as chat from "../chat.js";

let box;
let giveUp = null;
const WAIT_MS = 10 * 60 * 1000; // the server drops a waiting entry after --pool-wait (10 min)

export function status() {
  box = h("div", { class: "pool-status", hidden: true });
  on("pool", draw);
  setTimeout(restore, 0);
  return box;
}

// Waiting survives a reload of the tab (the server has no "am I waiting?" route).
const KEY = "confab.pool";
function setWaiting(w, since = Date.now()) {
  S.pool = { waiting: w };
  clearTimeout(giveUp);
  if (w) {
    sessionStorage.setItem(KEY, String(since));
    giveUp = setTimeout(() => { if (S.pool.waiting) { setWaiting(false); announce("Nobody to talk to right now. Try again later."); } }, Math.max(0, since + WAIT_MS - Date.now()));
  } else sessionStorage.removeItem(KEY);
  emit("pool");
}

export function restore() {
  const since = Number(sessionStorage.getItem(KEY));
  if (since && Date.now() - since < WAIT_MS) setWaiting(true, since); else sessionStorage.removeItem(KEY);
}

function draw() {
  box.hidden = !S.pool.waiting;
  box.replaceChildren(...(S.pool.waiting ? [
    h("p", { "data-testid": "pool-waiting", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), "Looking for a stranger to talk to…"),
    h("button", { type: "button", "data-testid": "pool-leave", onclick: leave }, "Stop looking"),
  ] : []));
}

async function leave() {
  try { await api.del("/pool"); } catch { /* leaving is idempotent; try our best */ }
  setWaiting(false);
}

export function openPool() {
  const err = h("p", { class: "error", role: "alert" });
  const form = h("form", { "data-testid": "pool-form" },
    h("p", null, "Meet someone at random for a one-to-one chat. Neither of you sees the other's name; the room closes by itself after a while."),
    h("div", { class: "check" }, h("input", { type: "checkbox", name: "same_country", id: "same-country" }),
      h("label", { for: "same-country" }, "Only people from my country" + (S.me.country ? ` (${S.me.country})` : " (set a country in your profile first)"))),
    err,
    h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Find someone")));
  const d = dialog("Talk to a stranger", "pool-dialog", form);
  form.addEventListener("submit", async (e) => {
    e.preventDefault(); err.textContent = "";
    try {
      const r = await api.post("/pool", { same_country: form.same_country.checked });
      d.close();
      if (r && r.status === "matched") { setWaiting(false); chat.adopt(r.group); emit("matched", r.group); }
      else setWaiting(true);
    } catch (ex) {
      if (ex.code === "conflict") { d.close(); setWaiting(true); }
      else err.textContent = ex.field === "same_country" ? "Set your country in your profile first." : api.explain(ex);
    }
  });
}

on("matched", () => setWaiting(false));
// A match made while this tab was away shows up as a new room in GET /groups.
on("groups", () => {
  const since = Number(sessionStorage.getItem(KEY));
  if (!S.pool.waiting || !since) return;
  for (const g of S.groups.values()) if (g.expires_at && Date.parse(g.created_at) >= since - 1000) { setWaiting(false); return; }
});
api.on("logout", () => { sessionStorage.removeItem(KEY); clearTimeout(giveUp); });
