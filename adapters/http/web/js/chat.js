// chat.js — what the user can do and what the server's frames mean: loads groups and history,
// applies live events (deduplicated by seq and rev; held replies' quotes follow their original,
// unread and mention counts drop with a deleted message), syncs after a reconnect, sends with an
// optimistic echo, moves the read marker. It must never touch the DOM (views do) and never
// show a message twice: every message is keyed by its group's seq and the higher rev wins.
import * as api from "./api.js";
import * as socket from "./socket.js";
import * as names from "./names.js";
import { S, emit, conv, markReader } from "./state.js";
import { uuid } from "./format.js";
import * as files from "./files.js";

let syncFloor = null; // the revs a sync started from, until its `synced` arrives

// ---- groups -------------------------------------------------------------------------------

export function groupTitle(g) {
  if (!g) return "";
  if (g.my.alias) return g.my.alias;
  if (g.kind === "group") return g.name || "Group";
  if (g.expires_at) return "Stranger";
  const p = g._partner && names.user(g._partner);
  return p ? p.display_name || p.username : "Direct chat";
}

export const isClosed = (g) => !!(g && (g.closed_at || (g.expires_at && Date.parse(g.expires_at) <= Date.now())));

function upsertGroup(g, front = false) {
  const old = S.groups.get(g.id);
  if (old) { g._partner = old._partner; if (g.my.mention_count === undefined) g.my.mention_count = old.my.mention_count || 0; }
  else if (g.my.mention_count === undefined) g.my.mention_count = 0;
  S.groups.set(g.id, g);
  if (!S.revs.has(g.id)) S.revs.set(g.id, g.last_rev);
  if (!S.order.includes(g.id)) { if (front) S.order.unshift(g.id); else S.order.push(g.id); }
  if (g.kind === "direct" && !g._partner) findPartner(g.id);
}

// One members call per direct chat names its partner.
function findPartner(id) {
  names.members(id).then((ms) => {
    const g = S.groups.get(id);
    const other = ms.find((m) => m.user.id !== S.me.id);
    if (g && other) { g._partner = other.user.id; emit("groups"); }
  }).catch(() => {});
}

function removeGroup(id) {
  S.groups.delete(id); S.order = S.order.filter((x) => x !== id);
  S.revs.delete(id); S.convs.delete(id); names.forget(id);
  if (S.current === id) { S.current = null; emit("open"); }
  emit("groups");
}

export async function loadGroups() {
  const { groups } = await api.get("/groups");
  const seen = new Set(groups.map((g) => g.id));
  for (const id of [...S.groups.keys()]) if (!seen.has(id)) removeGroup(id);
  S.order = [];
  for (const g of groups) upsertGroup(g);
  // The open group must not come back as unread because the server saw a marker we moved after.
  if (S.current && S.groups.has(S.current)) maybeRead();
  emit("groups");
}

function toFront(id) {
  if (S.order[0] === id) return;
  S.order = [id, ...S.order.filter((x) => x !== id)];
}

// ---- the socket ---------------------------------------------------------------------------

export function start() {
  socket.start({
    ready: onReady,
    frame: onFrame,
    state: (s) => { S.connection = s; emit("connection", s); },
  });
}

async function onReady() {
  try {
    const since = {};
    for (const [id, rev] of S.revs) since[id] = syncFloor && syncFloor[id] !== undefined ? Math.min(rev, syncFloor[id]) : rev;
    if (Object.keys(since).length) {
      syncFloor = since;
      await socket.request({ type: "sync", since }, 120000);
      syncFloor = null;
    }
    await loadGroups();
    loadAnnouncements().catch(() => {});
    for (const p of S.pending.values()) if (p.state === "failed" && p.retryable) retry(p.client_id);
  } catch (e) {
    // The socket went away mid-sync: the next `ready` starts again from the floor.
    if (!e.lost) console.error(e);
  }
}

function bumpRev(id, rev) { if (rev > (S.revs.get(id) || 0)) S.revs.set(id, rev); }

function onFrame(f) {
  switch (f.type) {
    case "message.created": case "message.updated": applyMessage(f.message, f.type === "message.created"); break;
    case "message.deleted": applyDeleted(f); break;
    case "group.created": upsertGroup(f.group, true); emit("groups"); break;
    case "group.updated": upsertGroup(f.group); emit("groups"); if (f.group.id === S.current) emit("open"); break;
    case "group.closed": { const g = S.groups.get(f.group_id); if (g) { g.closed_at = g.closed_at || new Date().toISOString(); emit("groups"); if (g.id === S.current) emit("open"); } break; }
    case "group.deleted": removeGroup(f.group_id); break;
    case "member.joined": case "member.left": case "member.role_changed": onMember(f); break;
    case "typing": onTyping(f); break;
    case "read": onRead(f); break;
    case "announcement.created":
      S.announcements = [f.announcement, ...S.announcements.filter((a) => a.id !== f.announcement.id)];
      emit("announcements", f.announcement); break;
    case "pool.matched":
      S.pool = { waiting: false }; upsertGroup(f.group, true); emit("pool"); emit("groups"); emit("matched", f.group); break;
    case "presence": names.presence(f); emit("presence", f.user_id); break;
    default: break;
  }
}

function onMember(f) {
  names.forget(f.group_id);
  const g = S.groups.get(f.group_id);
  if (f.type === "member.left" && S.me && f.user_id === S.me.id) { removeGroup(f.group_id); return; }
  if (g) {
    if (f.type === "member.joined") g.member_count++;
    if (f.type === "member.left") g.member_count = Math.max(0, g.member_count - 1);
    if (f.type === "member.role_changed" && S.me && f.user_id === S.me.id) g.my.role = f.role;
  }
  emit("members", f.group_id); emit("groups");
  if (f.group_id === S.current) emit("open");
}

// Insert into a loaded window; the higher rev wins so sync and live frames can interleave.
function store(c, m, live) {
  if (c.loading && live) {
    // The page being read may predate this message: keep it until the page is in.
    const held = c.early.get(m.seq);
    if (!held || held.rev <= m.rev) c.early.set(m.seq, m);
    return false;
  }
  const old = c.msgs.get(m.seq);
  if (old) { if (old.rev > m.rev) return false; c.msgs.set(m.seq, m); return true; }
  if (!c.loaded) return false;
  const seqs = [...c.msgs.keys()];
  const hi = seqs.length ? Math.max(...seqs) : 0;
  const lo = seqs.length ? Math.min(...seqs) : 0;
  if (live && c.moreAfter && m.seq > hi) return false; // not contiguous with what is shown
  if (seqs.length && m.seq < lo) return false; // older than the window: paging will bring it
  c.msgs.set(m.seq, m);
  return true;
}

function applyMessage(m, created) {
  bumpRev(m.group_id, m.rev);
  const g = S.groups.get(m.group_id);
  if (!g) { loadGroups().catch(() => {}); return; }
  const mine = S.me && m.sender_id === S.me.id;
  if (mine && m.client_id && S.pending.has(m.client_id)) S.pending.delete(m.client_id);
  const fresh = created && m.seq > g.last_seq;
  if (m.seq > g.last_seq) g.last_seq = m.seq;
  if (fresh) {
    toFront(g.id);
    const t = S.typing.get(g.id);
    if (t && t.delete(m.sender_id)) emit("typing", g.id);
    if (!mine && !m.deleted && m.seq > g.my.last_read_seq) {
      const mentioned = mentionsMe(m);
      if (g.id === S.current && reading() && S.atBottom) {
        // The open, focused, scrolled-down group reads its live messages as they come.
        visibleSeq = Math.max(visibleSeq, m.seq);
        queueMicrotask(maybeRead);
      } else {
        g.my.unread_count++;
        if (mentioned) g.my.mention_count = (g.my.mention_count || 0) + 1;
      }
      if (g.id === S.current) emit("incoming", m);
    }
    if (mine && m.seq > g.my.last_read_seq) g.my.last_read_seq = m.seq;
  }
  const c = S.convs.get(g.id);
  const held = c && c.msgs.get(m.seq);
  const quotes = !created && c && !(held && held.rev > m.rev) ? followQuotes(c, m) : false;
  if (c && store(c, m, true)) emit("conv", g.id);
  else if (c && (mine || quotes)) emit("conv", g.id);
  emit("message", m); // the thread and pins panels follow single messages
  emit("groups");
}

// A reply's `reply_to.excerpt` is its original as it is now, but the server sends the replies no
// event when the original is edited or deleted: the held replies follow it here (whether any
// changed).
function followQuotes(c, orig) {
  const excerpt = orig.deleted ? "" : [...(orig.body || "")].slice(0, 100).join("");
  let changed = false;
  for (const [seq, m] of c.msgs) {
    if (!m.reply_to || m.reply_to.seq !== orig.seq || m.reply_to.excerpt === excerpt) continue;
    c.msgs.set(seq, { ...m, reply_to: { ...m.reply_to, excerpt } });
    changed = true;
  }
  return changed;
}

// Whether `m` mentions me: the server's `mentions`; an older server without it, my @username.
export function mentionsMe(m) {
  if (!S.me || m.deleted) return false;
  if (Array.isArray(m.mentions)) return m.mentions.includes(S.me.id);
  return new RegExp(`(^|[^\\w.@-])@${S.me.username.replace(/[.]/g, "\\.")}(?![\\w.-])`, "i").test(m.body);
}

function applyDeleted(f) {
  bumpRev(f.group_id, f.rev);
  const c = S.convs.get(f.group_id);
  const old = c && c.msgs.get(f.seq);
  if (old && old.rev <= f.rev) {
    c.msgs.set(f.seq, { ...old, body: "", attachments: [], reactions: [], mentions: [], pinned: false, deleted: true, edited_at: null, rev: f.rev });
    emit("conv", f.group_id);
  }
  // Replies keep pointing at it, with an empty excerpt.
  if (c && followQuotes(c, { seq: f.seq, deleted: true })) emit("conv", f.group_id);
  emit("deleted", f);
  // An unread message that goes no longer counts, as unread nor as a mention.
  const g = S.groups.get(f.group_id);
  if (!g || f.seq <= g.my.last_read_seq) return;
  if (!old) { recount(g.id); return; } // not held here: whose it was, and whom it named, is unknown
  if (old.deleted || old.sender_id === S.me.id) return;
  if (g.my.unread_count > 0) g.my.unread_count--;
  if (mentionsMe(old) && g.my.mention_count > 0) g.my.mention_count--;
  emit("groups");
}

// The unread and mention counts of `gid` as the server has them (after a deletion this client
// could not judge).
function recount(gid) {
  api.get(`/groups/${gid}`).then((fresh) => {
    const g = S.groups.get(gid);
    if (!g || gid === S.current) return;
    g.my.unread_count = fresh.my.unread_count;
    if (fresh.my.mention_count !== undefined) g.my.mention_count = fresh.my.mention_count;
    emit("groups");
  }).catch(() => {});
}

// ---- typing and read receipts -------------------------------------------------------------

let typingClock = null;
function onTyping(f) {
  if (S.me && f.user_id === S.me.id) return;
  if (!S.typing.has(f.group_id)) S.typing.set(f.group_id, new Map());
  S.typing.get(f.group_id).set(f.user_id, Date.now() + 4000);
  emit("typing", f.group_id);
  clearTimeout(typingClock);
  typingClock = setTimeout(expireTyping, 4100);
}
function expireTyping() {
  const now = Date.now();
  for (const [gid, m] of S.typing) {
    let changed = false;
    for (const [uid, until] of m) if (until <= now) { m.delete(uid); changed = true; }
    if (changed) emit("typing", gid);
    if (m.size) typingClock = setTimeout(expireTyping, 500);
  }
}

export function typers(gid) { const m = S.typing.get(gid); return m ? [...m.keys()] : []; }

function onRead(f) {
  if (markReader(f.group_id, f.user_id, f.seq)) emit("conv", f.group_id);
}

let lastTyping = 0;
export function typing(gid) {
  const now = Date.now();
  if (now - lastTyping < 2000) return;
  lastTyping = now;
  socket.send({ type: "typing", group_id: gid });
}

// ---- the read marker ----------------------------------------------------------------------

let visibleSeq = 0;
export function setVisible(gid, seq) { if (gid === S.current) { visibleSeq = seq; maybeRead(); } }
export const reading = () => document.visibilityState === "visible" && document.hasFocus();

const readTimers = new Map();
export function maybeRead() {
  const g = S.groups.get(S.current);
  if (!g || !reading() || !visibleSeq) return;
  const seq = Math.min(visibleSeq, g.last_seq);
  if (seq <= g.my.last_read_seq) {
    if (seq >= g.last_seq && (g.my.unread_count || g.my.mention_count)) { g.my.unread_count = 0; g.my.mention_count = 0; emit("groups"); }
    return;
  }
  g.my.last_read_seq = seq;
  const c = S.convs.get(g.id);
  if (seq >= g.last_seq) { g.my.unread_count = 0; g.my.mention_count = 0; }
  else if (c) {
    let n = 0;
    for (const m of c.msgs.values()) if (m.seq > seq && !m.deleted && m.sender_id !== S.me.id) n++;
    g.my.unread_count = Math.min(g.my.unread_count, n);
    if (!g.my.unread_count) g.my.mention_count = 0;
  }
  emit("groups");
  // A short pause folds a burst of scrolling into one marker write.
  clearTimeout(readTimers.get(g.id));
  readTimers.set(g.id, setTimeout(() => {
    const at = S.groups.get(g.id);
    if (!at) return;
    const s = at.my.last_read_seq;
    if (!socket.send({ type: "read", group_id: g.id, seq: s })) api.post(`/groups/${g.id}/read`, { seq: s }).catch(() => {});
  }, 300));
}
window.addEventListener("focus", () => maybeRead());
document.addEventListener("visibilitychange", () => maybeRead());

// ---- history ------------------------------------------------------------------------------

export async function open(gid) {
  const g = S.groups.get(gid);
  // Where "New messages" starts, as it was when the conversation was opened.
  S.unreadFrom = g && g.my.unread_count > 0 ? { group_id: gid, seq: g.my.last_read_seq } : null;
  S.current = gid; visibleSeq = 0;
  emit("open");
  const c = conv(gid);
  names.members(gid).catch(() => {});
  // A window left around a search result goes back to the newest messages.
  if (!c.loaded || c.moreAfter) await loadLatest(gid);
}

function take(c, messages) { for (const m of messages) { const old = c.msgs.get(m.seq); if (!old || old.rev <= m.rev) c.msgs.set(m.seq, m); } }

export async function loadLatest(gid) {
  const c = conv(gid);
  c.loading = true;
  let r;
  try { r = await api.get(`/groups/${gid}/messages?limit=50`); } finally { c.loading = false; }
  c.msgs.clear();
  take(c, r.messages);
  // Live messages that came while the page was on its way: newer than it, or newer versions.
  const lo = c.msgs.size ? Math.min(...c.msgs.keys()) : 0;
  take(c, [...c.early.values()].filter((m) => m.seq >= lo));
  c.early.clear();
  c.loaded = true; c.moreBefore = r.has_more; c.moreAfter = false;
  emit("conv", gid);
  emit("scroll", { gid, to: "bottom" });
}

let loadingOlder = false;
export async function loadOlder(gid) {
  const c = conv(gid);
  if (loadingOlder || !c.moreBefore || !c.msgs.size) return false;
  loadingOlder = true;
  try {
    const lo = Math.min(...c.msgs.keys());
    const r = await api.get(`/groups/${gid}/messages?before=${lo}&limit=50`);
    take(c, r.messages);
    c.moreBefore = r.has_more;
    emit("conv", gid);
    return true;
  } finally { loadingOlder = false; }
}

let loadingNewer = false;
export async function loadNewer(gid) {
  const c = conv(gid);
  if (loadingNewer || !c.moreAfter || !c.msgs.size) return false;
  loadingNewer = true;
  try {
    const hi = Math.max(...c.msgs.keys());
    const r = await api.get(`/groups/${gid}/messages?after=${hi}&limit=100`);
    take(c, r.messages);
    c.moreAfter = r.has_more;
    emit("conv", gid);
    return true;
  } finally { loadingNewer = false; }
}

// Show the messages around one seq (a search result), and mark it.
export async function jumpTo(gid, seq) {
  if (S.current !== gid) { S.current = gid; visibleSeq = 0; emit("open"); names.members(gid).catch(() => {}); }
  const c = conv(gid);
  const from = Math.max(0, seq - 20);
  const r = await api.get(`/groups/${gid}/messages?after=${from}&limit=50`);
  c.msgs.clear();
  take(c, r.messages);
  c.loaded = true; c.moreBefore = from > 0; c.moreAfter = r.has_more;
  S.highlight = { group_id: gid, seq };
  emit("conv", gid);
  emit("scroll", { gid, to: seq });
}

// ---- writing ------------------------------------------------------------------------------

// Sends over the socket when it is up, else over HTTP; the same client_id either way, so a
// retry can never make a second message. With `uploads` (files.js) it first waits for them all:
// the echo shows at once, the message goes once every file is stored.
// `reply`: the message answered ({id, seq, sender_id, excerpt}, as a `reply_to`), or null.
export async function send(gid, body, clientId = uuid(), uploads = [], reply = null) {
  const prev = S.pending.get(clientId);
  const p = { client_id: clientId, group_id: gid, body, uploads, reply, state: "sending", tries: (prev ? prev.tries : 0) + 1 };
  S.pending.set(clientId, p);
  emit("conv", gid);
  emit("scroll", { gid, to: "bottom" });
  let m;
  try {
    const ids = await uploaded(uploads);
    if (S.pending.get(clientId) !== p) return; // discarded (or sent again) meanwhile
    const more = ids.length ? { attachment_ids: ids } : {};
    if (reply) more.reply_to = reply.id;
    try {
      m = (await socket.request({ type: "message.send", group_id: gid, body, client_id: clientId, ...more })).message;
    } catch (e) {
      if (!e.lost) throw e;
      m = await api.post(`/groups/${gid}/messages`, { body, client_id: clientId, ...more });
    }
  } catch (e) {
    if (S.pending.get(clientId) !== p) return;
    p.state = "failed"; p.error = e.upload || api.explain(e);
    p.retryable = e.code === "network" || e.code === "unavailable" || e.code === "rate_limited";
    // Over the request budget: try once more by itself a little later (same client_id).
    if (e.code === "rate_limited" && p.tries < 3) { setTimeout(() => { if (S.pending.get(clientId) === p && p.state === "failed") retry(clientId); }, (e.retryAfter || 2) * 1000); }
    emit("conv", gid);
    return;
  }
  S.pending.delete(clientId);
  applyMessage(m, true);
  emit("conv", gid);
}

// The ids of the uploads, once all are stored; the first refusal otherwise.
async function uploaded(uploads) {
  const done = await Promise.allSettled(uploads.map((u) => u.promise));
  const bad = done.findIndex((r) => r.status === "rejected");
  if (bad < 0) return done.map((r) => r.value.id);
  const e = done[bad].reason;
  e.upload = `${uploads[bad].name}: ${uploads[bad].error || api.explain(e)}`;
  throw e;
}

export function retry(clientId) {
  const p = S.pending.get(clientId);
  if (p) send(p.group_id, p.body, clientId, (p.uploads || []).map(files.again), p.reply);
}
export function discard(clientId) {
  const p = S.pending.get(clientId);
  if (p) { S.pending.delete(clientId); (p.uploads || []).forEach(files.cancel); emit("conv", p.group_id); }
}

export async function edit(m, body) {
  let out;
  try { out = (await socket.request({ type: "message.edit", id: m.id, body })).message; }
  catch (e) { if (!e.lost) throw e; out = await api.patch(`/messages/${m.id}`, { body }); }
  applyMessage(out, false);
}

export async function remove(m) {
  try { await socket.request({ type: "message.delete", id: m.id }); }
  catch (e) { if (!e.lost) throw e; await api.del(`/messages/${m.id}`); }
}

// ---- group management ---------------------------------------------------------------------

// Leaves the open conversation for another view (the admin page): nothing is read meanwhile.
export function closeCurrent() {
  if (!S.current) return;
  S.current = null; S.highlight = null; visibleSeq = 0;
  emit("open");
}

export function adopt(g) { upsertGroup(g, true); emit("groups"); }

export async function createGroup(name) {
  const g = await api.post("/groups", { name });
  upsertGroup(g, true); emit("groups");
  return g;
}

export async function direct(username) {
  const g = await api.post("/direct", { username: username.trim().toLowerCase() });
  upsertGroup(g, true); emit("groups");
  return g;
}

export async function findUser(username) {
  const q = username.trim().toLowerCase();
  const r = await api.get(`/users?q=${encodeURIComponent(q)}&limit=50`);
  r.users.forEach(names.put);
  return r.users.find((u) => u.username === q) || null;
}

export async function refreshGroup(gid) {
  const g = await api.get(`/groups/${gid}`);
  upsertGroup(g); emit("groups"); if (gid === S.current) emit("open");
  return g;
}

export async function leave(gid) {
  await api.del(`/groups/${gid}/members/${S.me.id}`);
  removeGroup(gid);
}

export async function deleteGroup(gid) {
  const g = S.groups.get(gid);
  await api.del(`/groups/${gid}`);
  if (g && g.kind === "group") removeGroup(gid);
  else await refreshGroup(gid).catch(() => removeGroup(gid));
}

// ---- announcements ------------------------------------------------------------------------

export async function loadAnnouncements(more = false) {
  const last = S.announcements[S.announcements.length - 1];
  const q = more && last ? `?before=${last.id}&limit=20` : "?limit=20";
  const r = await api.get("/announcements" + q);
  const list = more ? S.announcements.concat(r.announcements) : r.announcements;
  const seen = new Set();
  S.announcements = list.filter((a) => !seen.has(a.id) && seen.add(a.id));
  S.announcementsMore = r.has_more;
  emit("announcements");
}

export function stop() { socket.stop(); }
