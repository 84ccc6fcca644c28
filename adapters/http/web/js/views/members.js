// views/members.js — the members dialog of a conversation ("Details" of a direct chat): who is
// in it, their roles and online dots; add by username, remove, change role, rename, leave,
// delete (or close a direct chat); Block / Unblock and Report beside everyone else. Controls
// appear only where the caller's role allows; the server decides anyway. It must never guess a
// user id from a name: a username is resolved with GET /users?q= and must match exactly.
import { h, dialog, field } from "../dom.js";
import { S, on } from "../state.js";
import * as chat from "../chat.js";
import * as names from "../names.js";
import * as api from "../api.js";
import { avatar } from "../format.js";
import { suggest } from "./sidebar.js";
import * as presence from "./presence.js";
import * as mod from "../moderation.js";
import { personActions } from "./moderation.js";

let current = null; // {d, gid, listEl, err}

on("members", (gid) => { if (current && current.gid === gid) load(true); });
on("groups", () => { if (current && !S.groups.has(current.gid)) current.d.close(); });
on("presence", () => { if (current) drawPresence(); });
on("blocks", () => { if (current) load(false); });

export function open(gid) {
  const g = S.groups.get(gid);
  if (!g) return;
  const err = h("p", { class: "error", role: "alert" });
  const listEl = h("ul", { class: "member-list", "aria-label": "Members" });
  const manage = g.kind === "group" && (g.my.role === "owner" || g.my.role === "admin");
  const parts = [listEl];
  if (manage) {
    const dl = h("datalist", { id: "member-users" });
    const input = h("input", { name: "username", required: true, autocomplete: "off", list: "member-users", autocapitalize: "none", spellcheck: "false" });
    input.addEventListener("input", suggest(input, dl));
    const add = h("form", { class: "inline-form", "data-testid": "add-member-form" },
      field("Add someone by username", input), dl, h("button", { type: "submit", class: "primary" }, "Add"));
    add.addEventListener("submit", async (e) => {
      e.preventDefault(); err.textContent = "";
      try {
        const u = await chat.findUser(input.value);
        if (!u) { err.textContent = "No user with that username."; return; }
        await api.post(`/groups/${gid}/members`, { user_id: u.id });
        input.value = "";
        await load(true);
      } catch (ex) { err.textContent = ex.code === "conflict" ? "Already a member." : api.explain(ex); }
    });
    const nameInput = h("input", { name: "name", required: true, maxlength: 100, value: g.name || "" });
    const rename = h("form", { class: "inline-form", "data-testid": "rename-form" },
      field("Group name", nameInput), h("button", { type: "submit", "data-testid": "rename-group" }, "Rename"));
    rename.addEventListener("submit", async (e) => {
      e.preventDefault(); err.textContent = "";
      try { await api.patch(`/groups/${gid}`, { name: nameInput.value.trim() }); await chat.refreshGroup(gid); }
      catch (ex) { err.textContent = api.explain(ex); }
    });
    parts.push(add, rename);
  }
  const danger = h("div", { class: "row danger-zone" });
  if (g.kind === "group") {
    danger.append(h("button", { type: "button", class: "danger", "data-testid": "leave-group", onclick: async () => {
      try { await chat.leave(gid); current && current.d.close(); } catch (ex) { err.textContent = api.explain(ex); }
    } }, "Leave group"));
    if (g.my.role === "owner") danger.append(h("button", { type: "button", class: "danger", "data-testid": "delete-group", onclick: async () => {
      try { await chat.deleteGroup(gid); current && current.d.close(); } catch (ex) { err.textContent = api.explain(ex); }
    } }, "Delete group for everyone"));
  } else if (!chat.isClosed(g)) {
    danger.append(h("button", { type: "button", class: "danger", "data-testid": "delete-group", onclick: async () => {
      try { await chat.deleteGroup(gid); current && current.d.close(); } catch (ex) { err.textContent = api.explain(ex); }
    } }, "Close this chat"));
  }
  parts.push(err, danger);
  const d = dialog(g.kind === "group" ? "Members of " + chat.groupTitle(g) : "Details", "members", ...parts);
  d.addEventListener("close", () => { if (current && current.d === d) current = null; });
  current = { d, gid, listEl, err };
  load(false);
  // Block / Unblock needs to know whom I block.
  mod.blocks().catch(() => {});
}

async function load(fresh) {
  const { gid, listEl, err } = current;
  let ms;
  try { ms = await names.members(gid, fresh); } catch (ex) { err.textContent = api.explain(ex); return; }
  if (!current || current.gid !== gid) return;
  const g = S.groups.get(gid);
  const owner = g.kind === "group" && g.my.role === "owner";
  const admin = g.kind === "group" && (owner || g.my.role === "admin");
  const back = keepFocus(listEl);
  listEl.replaceChildren(...ms.map((m) => {
    const u = m.user, self = u.id === S.me.id;
    const shownName = g.expires_at && !self ? "Stranger" : (u.display_name || u.username);
    let role = h("span", { class: "role" }, m.role);
    if (owner && !self) {
      const id = "role-" + u.id;
      const sel = h("select", { id, "data-testid": "member-role" },
        ...["member", "admin", "owner"].map((r) => h("option", { value: r, selected: r === m.role }, r)));
      // Arrow keys on a closed select fire a change per step: apply only where the user settles.
      let t = null;
      sel.addEventListener("change", () => {
        clearTimeout(t);
        t = setTimeout(async () => {
          if (sel.value === m.role) return;
          try { await api.patch(`/groups/${gid}/members/${u.id}`, { role: sel.value }); if (sel.value === "owner") await chat.refreshGroup(gid); await load(true); }
          catch (ex) { err.textContent = api.explain(ex); sel.value = m.role; }
        }, 500);
      });
      role = h("span", { class: "role" }, h("label", { for: id, class: "sr-only" }, "Role of " + shownName), sel);
    }
    const li = h("li", { "data-testid": "member", "data-user-id": u.id, class: "member" },
      h("span", { class: "member-pic" }),
      h("span", { class: "member-name" }, shownName, self ? " (you)" : "", !g.expires_at || self ? h("small", null, " @" + u.username) : null,
        h("small", { class: "presence-text", "aria-hidden": "true" })),
      role,
      self ? null : personActions(u, shownName, (text) => { err.textContent = text; }),
      admin && !self && m.role !== "owner" ? h("button", { type: "button", class: "danger small", "data-testid": "remove-member", "aria-label": "Remove " + shownName, onclick: async () => {
        try { await api.del(`/groups/${gid}/members/${u.id}`); await load(true); } catch (ex) { err.textContent = api.explain(ex); }
      } }, "Remove") : null);
    li._name = shownName;
    return li;
  }));
  drawPresence();
  back();
}

// The online dots and "last seen …" of the rows shown (none for the stranger of a pool room).
function drawPresence() {
  const g = S.groups.get(current.gid);
  if (!g) return;
  for (const li of current.listEl.children) {
    const id = li.dataset.userId, pic = li.querySelector(".member-pic"), text = li.querySelector(".presence-text");
    if (!id || !pic) continue;
    const u = g.expires_at && id !== S.me.id ? null : names.user(id);
    const seen = presence.label(u);
    if (pic.dataset.sig === (seen || "-") && pic.firstChild) continue;
    pic.dataset.sig = seen || "-";
    pic.replaceChildren(seen ? presence.withDot(avatar(id, li._name), u) : avatar(id, li._name));
    text.textContent = seen ? " · " + seen : "";
  }
}

// A redrawn list keeps the keyboard on the same control of the same person (Unblock after
// Block).
const TWIN = { "block-user": "unblock-user", "unblock-user": "block-user" };
function keepFocus(listEl) {
  const a = document.activeElement;
  const row = a && listEl.contains(a) ? a.closest("[data-user-id]") : null;
  if (!row || !a.dataset.testid) return () => {};
  const { userId } = row.dataset, { testid } = a.dataset;
  return () => {
    const r = listEl.querySelector(`[data-user-id="${CSS.escape(userId)}"]`);
    const to = r && (r.querySelector(`[data-testid="${testid}"]`) || (TWIN[testid] && r.querySelector(`[data-testid="${TWIN[testid]}"]`)));
    if (to) to.focus();
  };
}
