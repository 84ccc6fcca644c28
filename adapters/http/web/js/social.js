// social.js — what one can do to a message besides writing it: react (socket `reaction.add` /
// `reaction.remove`, or PUT/DELETE over HTTP without a socket), pin and unpin, read a group's
// pins and a message's replies, jump to a message. Every change comes back as
// `message.updated`, which chat.js applies like an edit: this module keeps no copy of messages
// and never touches the DOM.
import * as api from "./api.js";
import * as socket from "./socket.js";
import * as chat from "./chat.js";
import { S, emit } from "./state.js";

// Whether I have reacted to `m` with `emoji`.
export function reacted(m, emoji) {
  const r = (m.reactions || []).find((x) => x.emoji === emoji);
  return !!(r && S.me && r.user_ids.includes(S.me.id));
}

// Adds my reaction, or removes it when I already have it (`on` forces one way).
export async function toggleReaction(m, emoji, on = !reacted(m, emoji)) {
  try { await socket.request({ type: on ? "reaction.add" : "reaction.remove", id: m.id, emoji }); }
  catch (e) {
    if (!e.lost) throw e;
    const path = `/messages/${m.id}/reactions/${encodeURIComponent(emoji)}`;
    await (on ? api.put(path) : api.del(path));
  }
}

// Pinning: owner or admin of a group; either member of a direct chat (the server decides; this
// only hides the action from those it would refuse).
export function canPin(g) {
  if (!g || chat.isClosed(g)) return false;
  return g.kind === "direct" || g.my.role === "owner" || g.my.role === "admin";
}

export async function setPin(m, on) {
  const path = `/groups/${m.group_id}/pins/${m.id}`;
  await (on ? api.put(path) : api.del(path));
}

// The group's pinned messages, most recently pinned first.
export async function pins(gid) {
  const r = await api.get(`/groups/${gid}/pins`);
  return r.messages;
}

// One page of the replies to message `id`, oldest first, after seq `after`.
export async function replies(id, after = 0, limit = 50) {
  return api.get(`/messages/${id}/replies?after=${after}&limit=${limit}`);
}

// Brings message `seq` of `gid` into view and highlights it (as a search result does); pages
// the history around it only when it is not already shown.
export async function jump(gid, seq) {
  const c = S.convs.get(gid);
  if (S.current === gid && c && c.msgs.has(seq)) {
    S.highlight = { group_id: gid, seq };
    emit("conv", gid);
    emit("scroll", { gid, to: seq });
    return;
  }
  await chat.jumpTo(gid, seq);
}

// Human text for a refused reaction or pin.
export function explain(e, what) {
  if (e && e.code === "validation_failed" && what === "reaction") return "Could not react: this message has the most different reactions it can have (20), or that is not an emoji.";
  if (e && e.code === "validation_failed" && what === "pin") return "Could not pin: this conversation has the most pins it can have (50).";
  if (e && e.code === "forbidden") return what === "pin" ? "Only the owner or an admin can pin messages here." : "That is not allowed here.";
  return `Could not ${what === "pin" ? "change the pin" : "react"}: ${api.explain(e)}`;
}
