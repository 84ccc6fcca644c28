// main.js — starts the client: restores the session (or shows the sign-in screens), builds the
// signed-in frame (sidebar, conversation, banner), routes #/g/<id> to the open conversation and
// the mobile drawer. It must never hold chat state itself (state.js does) nor talk HTTP except
// through api.js.
import { h } from "./dom.js";
import * as api from "./api.js";
import * as chat from "./chat.js";
import * as names from "./names.js";
import { S, on, reset } from "./state.js";
import * as auth from "./views/auth.js";
import * as sidebar from "./views/sidebar.js";
import * as conversation from "./views/conversation.js";
import * as announcements from "./views/announcements.js";
import * as search from "./views/search.js";

const app = document.getElementById("app");
let mounted = false;

async function signedIn() {
  app.replaceChildren(h("p", { class: "loading" }, "Loading…"));
  try { S.me = await api.get("/users/me"); api.setUser(S.me); }
  catch (e) {
    if (!api.hasSession()) return signedOut();
    S.me = api.currentUser();
    if (!S.me) return signedOut();
  }
  names.put(S.me);
  mountShell();
  chat.start();
  try { await chat.loadGroups(); } catch { /* the socket's ready will try again */ }
  chat.loadAnnouncements().catch(() => {});
  const m = location.hash.match(/^#\/g\/([0-9a-f-]{36})$/);
  if (m && S.groups.has(m[1])) openGroup(m[1], false);
}

function mountShell() {
  mounted = true;
  const toggle = h("button", { type: "button", class: "icon-btn drawer-toggle", "data-testid": "drawer-toggle", "aria-label": "Show conversations", "aria-controls": "sidebar", "aria-expanded": "false",
    onclick: () => sidebar.drawer(!document.body.classList.contains("drawer-open")) }, "☰");
  sidebar.setToggle(toggle);
  const [aside, scrim] = sidebar.mount((id) => openGroup(id, true));
  const main = h("main", { class: "main", id: "main" }, h("h1", { class: "sr-only" }, "confab"), announcements.mountBanner(), conversation.mount(toggle));
  app.replaceChildren(h("div", { class: "shell" }, aside, scrim, main));
}

function openGroup(id, push) {
  sidebar.drawer(false);
  if (push && location.hash !== "#/g/" + id) history.replaceState(null, "", "#/g/" + id);
  S.highlight = null;
  chat.open(id).catch((e) => console.error(e));
}

search.onJump((gid, seq) => {
  sidebar.drawer(false);
  history.replaceState(null, "", "#/g/" + gid);
  chat.jumpTo(gid, seq).catch((e) => console.error(e));
});
on("matched", (g) => openGroup(g.id, true));
on("open", () => { if (!S.current && location.hash) history.replaceState(null, "", location.pathname); });

function signedOut() {
  chat.stop();
  reset();
  names.clear();
  mounted = false;
  document.body.classList.remove("drawer-open");
  history.replaceState(null, "", location.pathname);
  auth.mount(app, signedIn);
}

api.on("logout", () => { if (mounted || S.me) signedOut(); });
if (api.restore()) signedIn(); else signedOut();
