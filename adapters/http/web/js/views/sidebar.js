// views/sidebar.js — the signed-in frame's left column: who I am, the connection state, search,
// the buttons that start things (and "Admin" for server admins), and the list of conversations
// (most recent first, with unread and mention counts, and the partner's online dot on direct
// chats). On narrow screens it is a drawer. It must never fetch per conversation beyond what
// chat.js does, and never put user text anywhere but text nodes.
import { h, add, reconcile, dialog, field } from "../dom.js";
import { S, on, frameOnce } from "../state.js";
import * as chat from "../chat.js";
import * as api from "../api.js";
import { avatar, countdown } from "../format.js";
import * as search from "./search.js";
import * as profile from "./profile.js";
import * as pool from "./pool.js";
import * as announcements from "./announcements.js";
import * as names from "../names.js";
import * as presence from "./presence.js";
import { isAdmin } from "../moderation.js";

let list, statusEl, aside, scrim;
const toggles = []; // the ☰ buttons (the conversation's and the admin page's headers)

export function mount(onOpen) {
  list = h("ul", { class: "conv-list", "data-testid": "conversations", "aria-label": "Conversations" });
  statusEl = h("span", { class: "status", "data-testid": "connection-status", role: "status" });
  const me = h("span", { class: "me-name", "data-testid": "me" }, S.me.username);
  aside = h("aside", { class: "sidebar", id: "sidebar", "aria-label": "Conversations and settings" },
    h("div", { class: "side-head" },
      h("div", { class: "who" }, avatar(S.me.id, S.me.display_name || S.me.username), h("div", null, me, statusEl)),
      h("div", { class: "side-tools" },
        h("button", { type: "button", class: "icon-btn", "data-testid": "profile-button", "aria-label": "Profile and settings", title: "Profile", onclick: profile.openProfile }, "⚙"),
        h("button", { type: "button", class: "small", "data-testid": "logout", onclick: () => api.logout() }, "Log out"))),
    search.form(),
    h("div", { class: "side-actions" },
      h("button", { type: "button", "data-testid": "new-group", onclick: newGroup }, "+ Group"),
      h("button", { type: "button", "data-testid": "new-direct", onclick: newDirect }, "+ Direct"),
      h("button", { type: "button", "data-testid": "pool-button", title: "Talk to a stranger", onclick: pool.openPool }, "Stranger"),
      h("button", { type: "button", "data-testid": "announcements-button", title: "Announcements", onclick: announcements.openList }, "News"),
      isAdmin() ? h("button", { type: "button", "data-testid": "admin-button", title: "Reports and bans", onclick: () => adminHandler() }, "Admin") : null),
    pool.status(),
    h("nav", { class: "conv-nav", "aria-label": "Conversations" }, list));
  scrim = h("div", { class: "scrim", onclick: () => drawer(false) });
  aside.addEventListener("keydown", (e) => { if (e.key === "Escape" && document.body.classList.contains("drawer-open")) { drawer(false); const t = toggles.find((b) => b.offsetParent); if (t) t.focus(); } });
  openHandler = onOpen;
  const redraw = frameOnce(render);
  on("groups", redraw); on("names", redraw); on("open", redraw); on("presence", redraw);
  on("view", (v) => { const b = aside.querySelector("[data-testid=admin-button]"); if (b) { if (v === "admin") b.setAttribute("aria-current", "page"); else b.removeAttribute("aria-current"); } });
  on("connection", showStatus); showStatus();
  setInterval(() => { if (S.order.some((id) => { const g = S.groups.get(id); return g && g.expires_at; })) redraw(); }, 30000);
  render();
  return [aside, scrim];
}

let openHandler = () => {};
let adminHandler = () => {};

// What the "Admin" button does (main.js shows the admin page).
export function onAdmin(fn) { adminHandler = fn; }

export function setToggles(...btns) { toggles.splice(0, toggles.length, ...btns); }

export function drawer(open) {
  document.body.classList.toggle("drawer-open", open);
  for (const b of toggles) b.setAttribute("aria-expanded", open ? "true" : "false");
  if (open) { const cur = list.querySelector("[aria-current=true]") || list.querySelector("button") || aside.querySelector("button"); if (cur) cur.focus(); }
}

function showStatus() {
  const ok = S.connection === "connected";
  statusEl.dataset.state = ok ? "connected" : "reconnecting";
  statusEl.textContent = ok ? "connected" : "reconnecting…";
}

function render() {
  const groups = S.order.map((id) => S.groups.get(id)).filter(Boolean);
  const total = groups.reduce((n, g) => n + (g.my.unread_count || 0), 0);
  document.title = total ? `(${total}) confab` : "confab";
  reconcile(list, groups, (g) => g.id,
    (g) => fill(h("li", null, h("button", { type: "button", class: "conv", "data-testid": "conversation", "data-group-id": g.id, onclick: () => openHandler(g.id) })), g),
    (li, g) => fill(li, g));
  if (!groups.length && !list.children.length) list.append(h("li", { class: "empty", dataset: { key: "empty" } }, "No conversations yet. Start one above."));
  else { const e = list.querySelector(".empty"); if (e && groups.length) e.remove(); }
}

function fill(li, g) {
  const b = li.firstChild;
  const title = chat.groupTitle(g);
  const sub = g.expires_at
    ? (chat.isClosed(g) ? "closed" : "closes in " + countdown(Date.parse(g.expires_at) - Date.now()).replace(/:\d\d$/, ""))
    : g.closed_at ? "closed" : g.kind === "direct" ? "direct chat" : `${g.member_count} ${g.member_count === 1 ? "member" : "members"}`;
  const unread = g.my.unread_count || 0, mentions = g.my.mention_count || 0;
  b.replaceChildren();
  const pic = avatar(g.kind === "direct" && g._partner ? g._partner : g.id, title);
  add(b, [
    g.kind === "direct" && !g.expires_at && g._partner ? presence.withDot(pic, names.user(g._partner)) : pic,
    h("span", { class: "conv-text" },
      h("span", { class: "conv-name", "data-testid": "conversation-name" }, title),
      h("span", { class: "conv-sub" }, sub)),
    mentions > 0 ? h("span", { class: "badge mention", "data-testid": "mention-count", title: "mentions" }, String(mentions)) : null,
    mentions > 0 ? h("span", { class: "sr-only" }, " mentions, ") : null,
    unread > 0 ? h("span", { class: "badge", "data-testid": "unread-count" }, String(unread)) : null,
    unread > 0 ? h("span", { class: "sr-only" }, " unread") : null]);
  if (g.id === S.current) b.setAttribute("aria-current", "true"); else b.removeAttribute("aria-current");
  b.classList.toggle("unread", unread > 0);
  return li;
}

function newGroup() {
  const err = h("p", { class: "error", role: "alert" });
  const form = h("form", { "data-testid": "new-group-form" },
    field("Group name", h("input", { name: "name", required: true, maxlength: 100, autocomplete: "off" })),
    err, h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Create group")));
  const d = dialog("New group", "new-group-dialog", form);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try { const g = await chat.createGroup(form.name.value.trim()); d.close(); openHandler(g.id); }
    catch (ex) { err.textContent = api.explain(ex); }
  });
}

function newDirect() {
  const err = h("p", { class: "error", role: "alert", "data-testid": "form-error" });
  const dl = h("datalist", { id: "direct-users" });
  const input = h("input", { name: "username", required: true, autocomplete: "off", list: "direct-users", autocapitalize: "none", spellcheck: "false" });
  input.addEventListener("input", suggest(input, dl));
  const form = h("form", { "data-testid": "new-direct-form" },
    field("Username", input, "Start typing to search people."), dl,
    err, h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Start chat")));
  const d = dialog("New direct chat", "new-direct-dialog", form);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try { const g = await chat.direct(form.username.value); d.close(); openHandler(g.id); }
    catch (ex) { err.textContent = ex.code === "not_found" ? "No user with that username." : ex.code === "forbidden" ? "You block this person: unblock them first (⚙ Profile, Blocked people)." : ex.code === "validation_failed" ? (ex.field === "username" && /self|yourself|oneself/i.test(ex.message) ? ex.message : "That is not a username you can chat with.") : api.explain(ex); }
  });
}

// Username suggestions from GET /users?q=, at most one request in flight per pause in typing.
export function suggest(input, datalist) {
  let t = null;
  return () => {
    clearTimeout(t);
    const q = input.value.trim();
    if (q.length < 1) return;
    t = setTimeout(async () => {
      try {
        const r = await api.get(`/users?q=${encodeURIComponent(q)}&limit=8`);
        datalist.replaceChildren(...r.users.filter((u) => u.id !== S.me.id).map((u) => h("option", { value: u.username }, u.display_name || u.username)));
      } catch { /* suggestions are optional */ }
    }, 200);
  };
}
