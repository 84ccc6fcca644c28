// moderation.js — keeping people safe, as the API has it: my blocks (GET/PUT/DELETE
// /users/me/blocks), reports of a message or a user (POST /reports) and, for server admins, the
// reports (GET /reports, paged with `before`, by status; PATCH to resolve or dismiss) and bans
// (PUT/DELETE /users/{id}/ban). It keeps only the list of whom I block, never touches the DOM,
// and never decides who may do what: the server does (it answers 403 to non-admins anyway).
import * as api from "./api.js";
import * as names from "./names.js";
import { S, emit } from "./state.js";

// ---- blocks ------------------------------------------------------------------------------

let blocked = null; // Map id -> user, once loaded
let loading = null;

export const isAdmin = () => !!(S.me && Array.isArray(S.me.roles) && S.me.roles.includes("admin"));

// The users I block, most recently blocked first (read once, then kept up to date here).
export async function blocks(fresh = false) {
  if (blocked && !fresh) return [...blocked.values()];
  if (!loading) {
    loading = api.get("/users/me/blocks").then((r) => {
      blocked = new Map(r.users.map((u) => [u.id, u]));
      r.users.forEach(names.put);
      emit("blocks");
      return [...blocked.values()];
    }).finally(() => { loading = null; });
  }
  return loading;
}

// Whether I block `id`, as far as this client knows (false before the list was read).
export const isBlocked = (id) => !!(blocked && blocked.has(id));

// Blocks `user` ({id, …}): the server closes our direct chats (`group.closed` follows).
export async function block(user) {
  await api.put(`/users/me/blocks/${user.id}`);
  if (!blocked) await blocks(true).catch(() => {});
  // Most recently blocked first, as the server lists them.
  if (blocked) blocked = new Map([[user.id, names.user(user.id) || user], ...[...blocked].filter(([id]) => id !== user.id)]);
  emit("blocks");
}

export async function unblock(id) {
  await api.del(`/users/me/blocks/${id}`);
  if (blocked) blocked.delete(id);
  emit("blocks");
}

export function forget() { blocked = null; loading = null; }

// ---- reports -----------------------------------------------------------------------------

export const REASON_MAX = 1000;

// Reports a message (`{message_id}`) or a user (`{user_id}`) with a reason of 1–1000 characters.
export async function report(target, reason) {
  return api.post("/reports", { ...target, reason });
}

// One page of reports (admins): `status` "open", "resolved" or "dismissed"; `before` the id of
// the last one already shown.
export async function reports(status, before = null, limit = 20) {
  const q = new URLSearchParams({ status, limit: String(limit) });
  if (before) q.set("before", before);
  const r = await api.get("/reports?" + q);
  for (const x of r.reports) { names.want(x.reporter_id); if (x.user_id) names.want(x.user_id); }
  return r;
}

// Resolves or dismisses a report (admins); the server's report comes back.
export async function settle(id, status) {
  return api.patch(`/reports/${id}`, { status });
}

// ---- bans (admins) -----------------------------------------------------------------------

export const BAN_REASON_MAX = 500;

const adminView = new Map(); // id -> user as an admin sees it (with `banned`)

// The user as an admin sees them (with `banned`), read fresh once per `fresh` call.
export async function account(id, fresh = false) {
  if (!fresh && adminView.has(id)) return adminView.get(id);
  const u = await api.get(`/users/${id}`);
  adminView.set(id, u);
  return u;
}
export const known = (id) => adminView.get(id) || null;

export async function findUsers(q) {
  const r = await api.get(`/users?q=${encodeURIComponent(q.trim().toLowerCase())}&limit=20`);
  for (const u of r.users) adminView.set(u.id, u);
  return r.users;
}

// Bans `id` (`reason` optional, kept for the admins): every session of theirs ends at once.
export async function ban(id, reason) {
  await api.put(`/users/${id}/ban`, reason ? { reason } : {});
  const u = adminView.get(id);
  if (u) adminView.set(id, { ...u, banned: true });
  emit("bans", id);
}

export async function unban(id) {
  await api.del(`/users/${id}/ban`);
  const u = adminView.get(id);
  if (u) adminView.set(id, { ...u, banned: false });
  emit("bans", id);
}

export function clear() { forget(); adminView.clear(); }
