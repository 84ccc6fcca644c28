// views/social.js — what a message shows and offers besides its text: the quote of the message
// it replies to (a button that jumps there), @mentions highlighted in the body, the pin mark,
// reaction chips and the emoji picker, and the composer's "Replying to …" bar. It must never
// insert user text as anything but text (mentions are split into text nodes, never parsed),
// and never change a message itself: reactions and pins come back as `message.updated`.
import { h, dialog, announce, focusBack } from "../dom.js";
import { S, emit } from "../state.js";
import * as names from "../names.js";
import * as social from "../social.js";
import { linkify } from "../format.js";

// Common emoji for the picker: plain buttons, no library.
export const EMOJI = ["👍", "👎", "❤️", "😂", "😮", "😢", "😡", "🎉", "🙏", "👏", "🔥", "💯",
  "✅", "❌", "👀", "🤔", "😊", "😍", "🥳", "😅", "🙌", "💪", "🚀", "⭐"];

// The name shown for a user in `g` (strangers stay "Stranger").
export function who(g, id) {
  if (S.me && id === S.me.id) return S.me.display_name || S.me.username;
  if (g && g.expires_at) return "Stranger";
  return names.name(id);
}

// ---- replies ------------------------------------------------------------------------------

// What a quote says of the message it answers: its excerpt, or why there is none ("deleted
// message" once the original, loaded here, is deleted).
export function excerptText(g, r) {
  if (r.excerpt) return r.excerpt;
  const c = S.convs.get(g.id);
  const orig = c && c.msgs.get(r.seq);
  // Not loaded: an empty excerpt may be a deletion or a message of files only.
  if (!orig) return "(no text)";
  return orig.deleted ? "deleted message" : (orig.attachments || []).length ? "attachment" : "(no text)";
}

// The quote above a reply's body: sender and excerpt; choosing it shows the original.
export function quote(g, r, onJump) {
  const text = excerptText(g, r);
  const gone = !r.excerpt && text === "deleted message";
  // Named by its visible text (an aria-label would hide it from voice control users), with
  // "Reply to" for screen readers only.
  return h("button", { type: "button", class: "quote" + (gone ? " gone" : ""), "data-testid": "reply-quote", "data-reply-id": r.id, "data-seq": r.seq,
    title: onJump ? "Show the original message" : null,
    onclick: onJump ? () => onJump(g.id, r.seq) : null, disabled: !onJump },
  h("span", { class: "quote-who" }, h("span", { class: "sr-only" }, "Reply to "), who(g, r.sender_id)),
  h("span", { class: "quote-text" }, text));
}

// The reply_to a new reply will carry, from the message it answers.
export function refOf(m) {
  return { id: m.id, seq: m.seq, sender_id: m.sender_id, excerpt: m.deleted ? "" : [...(m.body || "")].slice(0, 100).join("") };
}

const replying = new Map(); // group id -> the reply_to being written (kept per conversation)
export const replyOf = (gid) => replying.get(gid) || null;
export function setReply(gid, m) { replying.set(gid, refOf(m)); emit("reply", gid); }
export function clearReply(gid) { if (replying.delete(gid)) emit("reply", gid); }

// The composer's "Replying to …" bar (hidden when not replying); `focus` is the textarea.
export function replyBar(gid, focus) {
  const r = replyOf(gid);
  const g = S.groups.get(gid);
  if (!r || !g) return null;
  return h("div", { class: "reply-bar", "data-testid": "reply-preview" },
    h("span", { class: "reply-label" }, "Replying to ", h("strong", null, who(g, r.sender_id)), ": ", excerptText(g, r)),
    h("button", { type: "button", class: "icon-btn", "data-testid": "cancel-reply", "aria-label": "Cancel reply", onclick: () => { clearReply(gid); if (focus) focus.focus(); } }, "×"));
}

// ---- mentions -----------------------------------------------------------------------------

const AT = /@([a-z0-9_.-]{3,32})/gi;

// The usernames `m` mentions that this client knows (members are fetched on open).
function mentioned(m) {
  const out = new Set();
  for (const id of m.mentions || []) { const u = names.user(id); if (u) out.add(u.username.toLowerCase()); }
  return out;
}

// A body as text and links, each @username it mentions a highlighted span (mine stronger).
export function body(m) {
  const known = mentioned(m);
  const mine = S.me ? S.me.username.toLowerCase() : null;
  return linkify(m.body).flatMap((part) => {
    if (typeof part !== "string" || !known.size) return [part];
    const out = [];
    let last = 0;
    for (const x of part.matchAll(AT)) {
      const name = x[1].toLowerCase().replace(/[.-]+$/, "");
      if (!known.has(name)) continue;
      const before = part[x.index - 1];
      if (before && /[\p{L}\p{N}_.@-]/u.test(before)) continue; // inside a word or an address
      if (x.index > last) out.push(part.slice(last, x.index));
      out.push(h("span", { class: "at" + (name === mine ? " me" : ""), "data-testid": "mention" }, "@" + part.substr(x.index + 1, name.length)));
      last = x.index + 1 + name.length;
    }
    if (last < part.length) out.push(part.slice(last));
    return out;
  });
}

// What redraws must notice: how many mentioned users have become known.
export const mentionSig = (m) => (m.mentions || []).filter((id) => names.user(id)).length;

// ---- reactions and pins -------------------------------------------------------------------

// A refusal, said politely: in the live region and, for a few seconds, in the conversation.
let statusEl = null, statusTimer = null;
export function statusLine() {
  statusEl = h("p", { class: "action-status", "data-testid": "action-status", hidden: true }); // read out by announce()
  return statusEl;
}
export function notify(text) {
  announce(text);
  if (!statusEl) return;
  statusEl.textContent = text; statusEl.hidden = false;
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => { statusEl.hidden = true; statusEl.textContent = ""; }, 6000);
}

function reactedBy(g, r) {
  const list = r.user_ids.map((id) => who(g, id));
  const more = r.count - list.length;
  return list.join(", ") + (more > 0 ? ` and ${more} more` : "") + " reacted with " + r.emoji;
}

async function toggle(m, emoji, on) {
  try { await social.toggleReaction(m, emoji, on); }
  catch (e) { notify(social.explain(e, "reaction")); }
}

// The chips under a message (null when it has none and cannot get any).
export function reactions(g, m, open) {
  const rs = m.reactions || [];
  if (!rs.length) return null;
  return h("div", { class: "reactions", "data-testid": "reactions", role: "group", "aria-label": "Reactions" },
    rs.map((r) => {
      const mine = social.reacted(m, r.emoji);
      return h("button", { type: "button", class: "reaction" + (mine ? " mine" : ""), "data-testid": "reaction", "data-emoji": r.emoji,
        "aria-pressed": mine ? "true" : "false", title: reactedBy(g, r), disabled: !open,
        "aria-label": `${r.emoji} ${r.count}: ${reactedBy(g, r)}`, onclick: () => toggle(m, r.emoji, !mine) },
      h("span", { "aria-hidden": "true" }, r.emoji), " ", h("span", { class: "count", "data-testid": "reaction-count" }, String(r.count)));
    }));
}

// The emoji picker for `m`: a small dialog of buttons; picking one toggles it.
export function picker(m, from) {
  const grid = h("div", { class: "emoji-grid", role: "group", "aria-label": "Emoji" },
    EMOJI.map((e) => h("button", { type: "button", class: "emoji", "data-testid": "pick-reaction", "data-emoji": e,
      "aria-pressed": social.reacted(m, e) ? "true" : "false", "aria-label": e,
      onclick: () => { d.close(); toggle(m, e); } }, e)));
  const d = dialog("Add a reaction", "reaction-picker", grid);
  d.classList.add("picker");
  d.addEventListener("close", focusBack(from));
  const first = grid.querySelector("button"); if (first) first.focus();
  return d;
}

// The pin mark in a pinned message's header.
export const pinMark = (m) => (m.pinned && !m.deleted
  ? h("span", { class: "pin-mark", "data-testid": "pinned-mark", title: "Pinned", role: "img", "aria-label": "Pinned" }, "📌")
  : null);

export async function pin(m, on) {
  try { await social.setPin(m, on); announce(on ? "Message pinned." : "Message unpinned."); }
  catch (e) { notify(social.explain(e, "pin")); }
}
