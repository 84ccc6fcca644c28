// main.js — starts the client: restores the session (or shows the sign-in screens, saying why
// when the server ended the session: a ban), builds the signed-in frame (sidebar, conversation,
// admin page, banner), routes #/g/<id> to the open conversation and #/admin to the admin page,
// and the mobile drawer. It must never hold chat state itself (state.js does) nor talk HTTP
// except through api.js.
import { h, announce } from "./dom.js";
import * as api from "./api.js";
import * as chat from "./chat.js";
import * as names from "./names.js";
import { S, on, reset } from "./state.js";
import * as auth from "./views/auth.js";
import * as sidebar from "./views/sidebar.js";
import * as conversation from "./views/conversation.js";
import * as announcements from "./views/announcements.js";
import * as search from "./views/search.js";
import * as admin from "./views/admin.js";
import * as mod from "./moderation.js";

const app = document.getElementById("app");
let mounted = false;
let convEl = null;

async function signedIn() {
  app.replaceChildren(h("p", { class: "loading" }, "Loading…"));
  try { S.me = await api.get("/users/me"); api.setUser(S.me); }
  catch (e) {
    if (!api.hasSession()) return signedOut(e && e.code === "banned" ? "banned" : null);
    S.me = api.currentUser();
    if (!S.me) return signedOut();
  }
  names.put(S.me);
  mountShell();
  chat.start();
  try { await chat.loadGroups(); } catch { /* the socket's ready will try again */ }
  chat.loadAnnouncements().catch(() => {});
  mod.blocks().catch(() => {});
  const m = location.hash.match(/^#\/g\/([0-9a-f-]{36})$/);
  if (m && S.groups.has(m[1])) openGroup(m[1], false);
  else if (location.hash === "#/admin") showAdmin();
}

function mountShell() {
  mounted = true;
  const toggle = () => h("button", { type: "button", class: "icon-btn drawer-toggle", "data-testid": "drawer-toggle", "aria-label": "Show conversations", "aria-controls": "sidebar", "aria-expanded": "false",
    onclick: () => sidebar.drawer(!document.body.classList.contains("drawer-open")) }, "☰");
  const [convToggle, adminToggle] = [toggle(), toggle()];
  sidebar.setToggles(convToggle, adminToggle);
  sidebar.onAdmin(showAdmin);
  const [aside, scrim] = sidebar.mount((id) => openGroup(id, true));
  convEl = conversation.mount(convToggle);
  const main = h("main", { class: "main", id: "main" }, h("h1", { class: "sr-only" }, "confab"), announcements.mountBanner(), convEl, admin.mount(adminToggle));
  app.replaceChildren(h("div", { class: "shell" }, aside, scrim, main));
}

function showConversation() {
  admin.hide();
  if (convEl) convEl.hidden = false;
}

function openGroup(id, push) {
  sidebar.drawer(false);
  showConversation();
  if (push && location.hash !== "#/g/" + id) history.replaceState(null, "", "#/g/" + id);
  S.highlight = null;
  chat.open(id).catch((e) => console.error(e));
}

// The admin page takes the conversation's place (for admins only; nothing happens otherwise).
function showAdmin() {
  if (!mounted) return;
  if (!mod.isAdmin()) { if (location.hash === "#/admin") history.replaceState(null, "", location.pathname); return; }
  sidebar.drawer(false);
  chat.closeCurrent();
  if (!admin.show()) return;
  if (convEl) convEl.hidden = true;
  history.replaceState(null, "", "#/admin");
}

search.onJump((gid, seq) => {
  sidebar.drawer(false);
  showConversation();
  history.replaceState(null, "", "#/g/" + gid);
  chat.jumpTo(gid, seq).catch((e) => console.error(e));
});
on("matched", (g) => openGroup(g.id, true));
on("open", () => { if (!S.current && location.hash && !admin.shown()) history.replaceState(null, "", location.pathname); });
window.addEventListener("hashchange", () => { if (location.hash === "#/admin") showAdmin(); });

// `reason`: why the server ended the session ("banned"), said on the login screen.
function signedOut(reason = null) {
  chat.stop();
  reset();
  names.clear();
  mod.clear();
  mounted = false;
  convEl = null;
  document.body.classList.remove("drawer-open");
  history.replaceState(null, "", location.pathname);
  auth.mount(app, signedIn, reason === "banned" ? api.BANNED : null);
  if (reason === "banned") announce(api.BANNED);
}

api.on("logout", (reason) => { if (mounted || S.me) signedOut(reason); });
if (api.restore()) signedIn(); else signedOut();
