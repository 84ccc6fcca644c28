// views/admin.js — the admin page (`#/admin`, server admins only: `roles` has "admin"): the
// reports by status (open first), paged with `before`, each with who reported whom, when, the
// reported message as it was when reported, the reason, Resolve / Dismiss, and Ban / Unban of
// the reported user; and finding a user by username to ban (with a reason) or unban. It takes
// the conversation's place in the main column. It must never show a report's text, a name or a
// reason as anything but text, and never show itself to someone who is not an admin (the
// server refuses them anyway).
import { h, dialog, field, announce, reconcile } from "../dom.js";
import { S, on, emit } from "../state.js";
import * as mod from "../moderation.js";
import * as names from "../names.js";
import * as api from "../api.js";
import { avatar, fullTime, ago } from "../format.js";

const STATUSES = [["open", "Open"], ["resolved", "Resolved"], ["dismissed", "Dismissed"]];

let root = null, list, more, status, statusSel, users, usersNote, title;
let view = { status: "open", reports: [], more: false, loading: false, gen: 0 };

// The page's section (hidden until shown); `toggle` opens the sidebar drawer on phones.
export function mount(toggle) {
  title = h("h2", { id: "admin-title", tabindex: "-1" }, "Reports and bans");
  statusSel = h("select", { name: "status", id: "report-status", "data-testid": "report-status" },
    ...STATUSES.map(([v, label]) => h("option", { value: v }, label)));
  statusSel.addEventListener("change", () => { view.status = statusSel.value; load(false); });
  list = h("ul", { class: "report-list", "data-testid": "reports", "aria-label": "Reports" });
  status = h("p", { class: "note", role: "status", "data-testid": "reports-note" });
  more = h("button", { type: "button", class: "more", "data-testid": "reports-more", hidden: true, onclick: () => load(true) }, "Older reports");
  const q = h("input", { name: "q", id: "admin-user-q", required: true, autocomplete: "off", autocapitalize: "none", spellcheck: "false", maxlength: 64 });
  const find = h("form", { class: "inline-form", "data-testid": "user-search-form", role: "search", "aria-label": "Find a user" },
    field("Username or display name", q), h("button", { type: "submit" }, "Find"));
  usersNote = h("p", { class: "note", role: "status" });
  users = h("ul", { class: "member-list", "data-testid": "admin-users", "aria-label": "Users found" });
  find.addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = q.value.trim();
    if (!text) return;
    usersNote.textContent = "Searching…";
    try {
      const found = await mod.findUsers(text);
      usersNote.textContent = found.length ? `${found.length} found` : "Nobody by that name.";
      drawUsers(found);
    } catch (ex) { usersNote.textContent = api.explain(ex); drawUsers([]); }
  });
  root = h("section", { class: "admin", "data-testid": "admin-page", "aria-labelledby": "admin-title", hidden: true },
    h("header", { class: "conv-head" }, toggle, h("div", { class: "title-box" }, title,
      h("span", { class: "conv-sub" }, "Only server admins see this page"))),
    h("div", { class: "admin-body" },
      h("section", { class: "admin-part", "aria-labelledby": "reports-title" },
        h("div", { class: "admin-bar" },
          h("h3", { id: "reports-title" }, "Reports"),
          h("label", { for: "report-status" }, "Show"), statusSel,
          h("button", { type: "button", "data-testid": "reports-refresh", onclick: () => load(false) }, "Refresh")),
        status, list, more),
      h("section", { class: "admin-part", "aria-labelledby": "users-title" },
        h("h3", { id: "users-title" }, "Ban or unban someone"),
        find, usersNote, users)));
  on("names", () => { if (shown()) draw(); });
  on("bans", () => { if (shown()) { draw(); drawUsers(null); } });
  return root;
}

export const shown = () => !!(root && !root.hidden);

// Shows the page (admins only; whether it was shown).
export function show() {
  if (!root || !mod.isAdmin()) return false;
  const was = shown();
  root.hidden = false;
  emit("view", "admin");
  if (!was) { load(false); title.focus({ preventScroll: true }); }
  return true;
}

export function hide() {
  if (!shown()) return;
  root.hidden = true;
  emit("view", null);
}

// Reads the first page of the chosen status (or, with `older`, the next one).
async function load(older) {
  const gen = older ? view.gen : ++view.gen;
  if (!older) { view.reports = []; view.more = false; list.replaceChildren(); }
  if (view.loading && older) return;
  view.loading = true;
  status.textContent = "Loading reports…";
  more.hidden = true;
  try {
    const last = view.reports[view.reports.length - 1];
    const r = await mod.reports(view.status, older && last ? last.id : null);
    if (gen !== view.gen) return;
    const seen = new Set(view.reports.map((x) => x.id));
    view.reports = view.reports.concat(r.reports.filter((x) => !seen.has(x.id)));
    view.more = r.has_more;
    // Whether each reported user is banned: as an admin sees them (one read per person).
    for (const id of new Set(r.reports.map((x) => x.user_id).filter(Boolean))) {
      if (!mod.known(id)) mod.account(id).then(() => { if (shown()) draw(); }, () => {});
    }
    draw();
  } catch (ex) {
    if (gen === view.gen) status.textContent = "Could not read the reports: " + api.explain(ex);
  } finally { if (gen === view.gen) view.loading = false; }
}

function label(id) {
  const u = names.user(id);
  return u ? `${u.display_name || u.username} (@${u.username})` : names.name(id);
}

function draw() {
  const word = STATUSES.find(([v]) => v === view.status)[1].toLowerCase();
  // Those settled here stay in the list (with their new status) until it is read again.
  const n = view.reports.filter((r) => r.status === view.status).length;
  status.textContent = n ? `${n}${view.more ? "+" : ""} ${word} report${n === 1 ? "" : "s"}` : `No ${word} reports.`;
  more.hidden = !view.more;
  const back = keepFocus(list);
  reconcile(list, view.reports, (r) => r.id, reportEl, (el, r) => {
    if (el._sig === rowSig(r)) return el;
    const n = reportEl(r); n.dataset.key = r.id; el.replaceWith(n); return n;
  });
  back();
}

const rowSig = (r) => [r.status, label(r.reporter_id), r.user_id ? label(r.user_id) : "", r.user_id && mod.known(r.user_id) ? mod.known(r.user_id).banned : "?"].join("|");

function reportEl(r) {
  const target = r.user_id ? mod.known(r.user_id) : null;
  const settle = (to) => async (e) => {
    const b = e.currentTarget;
    b.disabled = true;
    try {
      const out = await mod.settle(r.id, to);
      const i = view.reports.findIndex((x) => x.id === r.id);
      if (i >= 0) view.reports[i] = { ...r, ...(out || {}), status: (out && out.status) || to };
      announce(`Report ${to}.`);
      draw();
    } catch (ex) { b.disabled = false; note.textContent = "Could not change the report: " + api.explain(ex); }
  };
  const note = h("span", { class: "error", role: "alert" });
  const open = r.status === "open";
  const li = h("li", { class: "report", "data-testid": "report", "data-report-id": r.id, "data-status": r.status, "data-reported-id": r.user_id },
    h("div", { class: "report-head" },
      h("span", null, h("strong", { "data-testid": "report-user" }, r.user_id ? label(r.user_id) : "(nobody)"),
        target && target.banned ? h("span", { class: "tag danger-tag", "data-testid": "banned-mark" }, "banned") : null,
        " reported by ", h("span", { "data-testid": "report-reporter" }, label(r.reporter_id))),
      h("time", { datetime: r.created_at, title: fullTime(r.created_at) }, ago(r.created_at)),
      h("span", { class: "tag" + (open ? " open-tag" : ""), "data-testid": "report-state" }, r.status)),
    r.message_id
      ? h("blockquote", { class: "report-excerpt", "data-testid": "report-body" },
        h("span", { class: "sr-only" }, "The message, as it was when reported: "), r.message_body || "(no text)")
      : h("p", { class: "note", "data-testid": "report-body" }, "A report about the person, not one message."),
    h("p", { class: "report-reason", "data-testid": "report-reason" }, h("strong", null, "Reason: "), r.reason),
    h("div", { class: "row" },
      open ? h("button", { type: "button", class: "primary", "data-testid": "resolve-report", "aria-label": "Resolve the report about " + label(r.user_id), onclick: settle("resolved") }, "Resolve") : null,
      open ? h("button", { type: "button", "data-testid": "dismiss-report", "aria-label": "Dismiss the report about " + label(r.user_id), onclick: settle("dismissed") }, "Dismiss") : null,
      r.user_id && r.user_id !== S.me.id ? banButton(r.user_id, target) : null,
      note));
  li._sig = rowSig(r);
  return li;
}

// Ban (opens the reason dialog) or Unban (at once) for user `id`; `u` as an admin sees them.
function banButton(id, u) {
  const who = label(id);
  if (u && u.banned) {
    return h("button", { type: "button", "data-testid": "unban-user", "aria-label": "Unban " + who, onclick: async (e) => {
      const b = e.currentTarget;
      b.disabled = true;
      try { await mod.unban(id); announce(`${who} is no longer banned.`); }
      catch (ex) { b.disabled = false; announce("Could not unban: " + api.explain(ex)); }
    } }, "Unban");
  }
  return h("button", { type: "button", class: "danger", "data-testid": "ban-user", "aria-label": "Ban " + who, "aria-haspopup": "dialog",
    onclick: (e) => openBan(id, who, e.currentTarget) }, "Ban");
}

// The ban dialog: an optional reason (kept for the admins), then Ban.
export function openBan(id, who, from) {
  const err = h("p", { class: "error", role: "alert", "data-testid": "form-error" });
  const reason = h("input", { name: "reason", maxlength: mod.BAN_REASON_MAX, autocomplete: "off" });
  const form = h("form", { "data-testid": "ban-form" },
    h("p", null, `${who} is signed out everywhere at once and cannot log in until unbanned.`),
    field("Reason (optional, only admins see it)", reason, `One line, up to ${mod.BAN_REASON_MAX} characters.`),
    err,
    h("div", { class: "row" },
      h("button", { type: "submit", class: "danger" }, "Ban"),
      h("button", { type: "button", onclick: () => d.close() }, "Cancel")));
  const d = dialog("Ban " + who, "ban-dialog", form);
  // Banned, the row's Ban became Unban: the keyboard goes there.
  d.addEventListener("close", () => {
    const to = from && from.isConnected ? from
      : document.querySelector(`[data-user-id="${id}"] [data-testid=unban-user], [data-reported-id="${id}"] [data-testid=unban-user]`);
    if (to) to.focus();
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault(); err.textContent = "";
    const text = reason.value.replace(/\s+/g, " ").trim();
    const send = form.querySelector("button[type=submit]");
    send.disabled = true;
    try {
      await mod.ban(id, text || null);
      d.close();
      announce(`${who} is banned.`);
    } catch (ex) {
      err.textContent = ex.field === "reason" ? `The reason must be one line of at most ${mod.BAN_REASON_MAX} characters.` : ex.field === "user_id" ? "You cannot ban yourself." : api.explain(ex);
    } finally { send.disabled = false; }
  });
  reason.focus();
}

let shownUsers = [];
function drawUsers(found) {
  if (found) shownUsers = found;
  const back = keepFocus(users);
  users.replaceChildren(...shownUsers.map((x) => {
    const u = mod.known(x.id) || x;
    const name = u.display_name || u.username;
    return h("li", { class: "member", "data-testid": "admin-user", "data-user-id": u.id, "data-banned": u.banned ? "true" : "false" },
      avatar(u.id, name),
      h("span", { class: "member-name" }, name, h("small", null, " @" + u.username),
        u.roles && u.roles.includes("admin") ? h("span", { class: "tag" }, "admin") : null,
        u.banned ? h("span", { class: "tag danger-tag", "data-testid": "banned-mark" }, "banned") : null),
      u.id === S.me.id ? h("span", { class: "note" }, "you") : banButton(u.id, u));
  }));
  back();
}

// A redrawn list keeps the keyboard on the same control of the same row (Unban after Ban).
const TWIN = { "ban-user": "unban-user", "unban-user": "ban-user" };
function keepFocus(container) {
  const a = document.activeElement;
  const row = a && container.contains(a) ? a.closest("[data-user-id], [data-report-id]") : null;
  if (!row || !a.dataset.testid) return () => {};
  const attr = row.dataset.userId ? "data-user-id" : "data-report-id";
  const key = row.getAttribute(attr), { testid } = a.dataset;
  return () => {
    const r = container.querySelector(`[${attr}="${CSS.escape(key)}"]`);
    if (!r) return;
    const to = r.querySelector(`[data-testid="${testid}"]`) || (TWIN[testid] && r.querySelector(`[data-testid="${TWIN[testid]}"]`)) || r.querySelector("button");
    if (to) to.focus();
  };
}
