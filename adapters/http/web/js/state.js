// state.js — what the client knows, in one place, and a tiny publish/subscribe so views redraw
// when it changes. It holds data only: it must never talk to the network or touch the DOM.

export const S = {
  me: null,                 // the signed-in user (from /users/me)
  groups: new Map(),        // id -> group as the server shows it to us (plus local counts)
  order: [],                // group ids, most recent activity first
  revs: new Map(),          // id -> highest rev seen (what `sync` asks from)
  convs: new Map(),         // id -> {msgs: Map seq->message, loaded, moreBefore, moreAfter}
  pending: new Map(),       // client_id -> {client_id, group_id, body, state: "sending"|"failed", error}
  typing: new Map(),        // group id -> Map user id -> until (ms)
  readers: new Map(),       // group id -> Map user id -> seq they have read
  current: null,            // the open group's id
  highlight: null,          // {group_id, seq} of a message jumped to
  unreadFrom: null,         // {group_id, seq}: the read marker when the open group was opened
  atBottom: true,           // the open conversation is scrolled to its newest message
  connection: "reconnecting",
  announcements: [],
  announcementsMore: false,
  pool: { waiting: false },
};

const subs = new Map();
export function on(topic, fn) {
  if (!subs.has(topic)) subs.set(topic, new Set());
  subs.get(topic).add(fn);
  return () => subs.get(topic).delete(fn);
}
export function emit(topic, data) {
  for (const fn of subs.get(topic) || []) { try { fn(data); } catch (e) { console.error(e); } }
}

// Coalesce many changes into one redraw per frame.
export function frameOnce(fn) {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    // Hidden tabs get no animation frames, but their title and counts must still move.
    (document.hidden ? setTimeout : requestAnimationFrame)(() => { queued = false; fn(); });
  };
}

// Records that `uid` has read `gid` up to `seq` (markers never move back); whether it moved.
export function markReader(gid, uid, seq) {
  if (!S.readers.has(gid)) S.readers.set(gid, new Map());
  const m = S.readers.get(gid);
  if ((m.get(uid) || 0) >= seq) return false;
  m.set(uid, seq);
  return true;
}

export function conv(id) {
  let c = S.convs.get(id);
  // `early`: live messages that arrived while the newest page was being read (see chat.js).
  if (!c) { c = { msgs: new Map(), loaded: false, loading: false, early: new Map(), moreBefore: false, moreAfter: false }; S.convs.set(id, c); }
  return c;
}

export function reset() {
  S.me = null; S.groups.clear(); S.order = []; S.revs.clear(); S.convs.clear(); S.pending.clear();
  S.typing.clear(); S.readers.clear(); S.current = null; S.highlight = null; S.unreadFrom = null;
  S.announcements = []; S.pool = { waiting: false };
}
