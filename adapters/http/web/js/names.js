// names.js — the cache of users (id -> user) that names senders and direct-chat partners, and
// shows who is online (`presence` events change its users in place).
// It is filled in batches from GET /groups/{id}/members; GET /users/{id} is asked only for ids
// still unknown, each at most once at a time. It must never make one request per message.
import * as api from "./api.js";
import { emit, markReader } from "./state.js";

const users = new Map();
const inflight = new Map();
const membersOf = new Map(); // group id -> Promise<members>
let flushTimer = null;

// A user as the server last showed them; a `presence` event seen since is kept over an older
// copy (a members list read before the event but answered after it).
const seenPresence = new Map(); // id -> {online, last_seen_at, at}
export function put(u) {
  if (!u || !u.id) return;
  const p = seenPresence.get(u.id);
  if (p && Date.now() - p.at < 2000) { u.online = p.online; u.last_seen_at = p.last_seen_at; }
  users.set(u.id, u);
}

// A `presence` event: the user's `online` and `last_seen_at` change in place.
export function presence(f) {
  seenPresence.set(f.user_id, { online: f.online, last_seen_at: f.last_seen_at, at: Date.now() });
  const u = users.get(f.user_id);
  if (u) { u.online = f.online; u.last_seen_at = f.last_seen_at; }
}
export const user = (id) => users.get(id) || null;

export function name(id) {
  const u = users.get(id);
  if (u) return u.display_name || u.username;
  want(id);
  return "…";
}

// Unknown ids are collected for a moment so a page of history costs at most one request per
// distinct unknown sender, never one per message.
const wanted = new Set();
export function want(id) {
  if (!id || users.has(id) || inflight.has(id)) return;
  wanted.add(id);
  if (!flushTimer) flushTimer = setTimeout(flush, 30);
}

async function flush() {
  // Members lists being read will likely name these ids: wait for them first.
  await Promise.allSettled([...membersOf.values()]);
  flushTimer = null;
  const ids = [...wanted]; wanted.clear();
  for (const id of ids) {
    if (users.has(id) || inflight.has(id)) continue;
    const p = api.get("/users/" + id)
      .then((u) => { put(u); emit("names"); })
      .catch(() => { users.set(id, { id, username: "unknown", display_name: "Unknown user" }); emit("names"); })
      .finally(() => inflight.delete(id));
    inflight.set(id, p);
  }
}

// Members of a group, once per group until invalidated by a membership event.
export function members(groupId, fresh = false) {
  if (fresh || !membersOf.has(groupId)) {
    const p = api.get(`/groups/${groupId}/members`).then((r) => {
      // Each member's read marker seeds "seen by" before any live `read` event.
      let moved = false;
      for (const m of r.members) { put(m.user); moved = markReader(groupId, m.user.id, m.last_read_seq || 0) || moved; }
      emit("names");
      if (moved) emit("conv", groupId);
      return r.members;
    });
    p.catch(() => membersOf.delete(groupId));
    membersOf.set(groupId, p);
  }
  return membersOf.get(groupId);
}

export function forget(groupId) { membersOf.delete(groupId); }
export function clear() { users.clear(); membersOf.clear(); seenPresence.clear(); }
