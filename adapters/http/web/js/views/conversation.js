// views/conversation.js — the open conversation: header (title, a direct partner's online dot,
// room countdown and alias, members), the message list (paging back on scroll-up with the
// scroll position kept, day separators, edit/delete, report, pending sends with retry, "seen
// by", attachments; replies, reactions, mentions and pins: social.js and panels.js), the typing
// line and the composer (its files: attachments.js; "Replying to …"). It must never insert user
// text as anything but text, and never send a read marker for messages the user has not had on
// screen.
import { h, reconcile, announce } from "../dom.js";
import { S, on, conv, frameOnce } from "../state.js";
import * as chat from "../chat.js";
import * as names from "../names.js";
import * as api from "../api.js";
import { avatar, time, fullTime, dayKey, dayLabel, linkify, countdown } from "../format.js";
import * as members from "./members.js";
import * as attach from "./attachments.js";
import * as ui from "./social.js";
import * as panels from "./panels.js";
import * as mentions from "./mentions.js";
import * as social from "../social.js";
import * as presence from "./presence.js";
import { openReport, closedText } from "./moderation.js";

let root, head, scroller, list, olderBtn, newerBtn, typingEl, composer, closedNote, roomBar, toggle;
let editing = null; // id of the message being edited
let wantScroll = null; // "bottom" or a seq to bring into view after the next draw
let shownGroup = null;
const drafts = new Map();
let replyCounts = new Map(); // message id -> replies to it among the messages loaded
let replyBox = null;

export function mount(drawerToggle) {
  toggle = drawerToggle;
  head = h("header", { class: "conv-head", "data-testid": "conversation-head" });
  roomBar = h("div", { class: "room-bar" });
  list = h("ol", { class: "messages", "data-testid": "message-list", "aria-label": "Messages" });
  olderBtn = h("button", { type: "button", class: "more", onclick: () => older() }, "Load older messages");
  newerBtn = h("button", { type: "button", class: "more", onclick: () => newer() }, "Load newer messages");
  const latestBtn = h("button", { type: "button", class: "more", onclick: () => S.current && chat.loadLatest(S.current) }, "Jump to latest");
  scroller = h("div", { class: "scroller", tabindex: "0", role: "region", "aria-label": "Message history" }, olderBtn, list, h("div", { class: "newer" }, newerBtn, latestBtn));
  scroller.addEventListener("scroll", onScroll, { passive: true });
  typingEl = h("div", { class: "typing", "data-testid": "typing" });
  const statusLine = ui.statusLine();
  closedNote = h("p", { class: "closed-note", "data-testid": "closed-note", hidden: true }, "This chat is closed: you can read it, but not write.");
  composer = composerForm();
  const dropTarget = h("div", { class: "drop-target", "data-testid": "drop-target", hidden: true }, h("p", null, "Drop files to attach them"));
  root = h("section", { class: "conversation", "aria-labelledby": "conv-title" }, head, roomBar, scroller, typingEl, statusLine, closedNote, composer, dropTarget);
  attach.watch(scroller, list);
  attach.dropZone(root, dropTarget, () => !!S.current && !composer.hidden, composer.body);
  const redraw = frameOnce(draw);
  on("open", () => {
    // Each conversation keeps its unsent draft.
    const ta = composer.body;
    if (shownGroup) drafts.set(shownGroup, ta.value);
    ta.value = drafts.get(S.current) || ""; grow(ta);
    editing = null; wantScroll = "bottom"; redraw(); attach.draw(); drawReply(); mentions.hide();
  });
  on("reply", (gid) => { if (gid === S.current) drawReply(); });
  on("conv", (gid) => { if (gid === S.current) redraw(); });
  on("names", redraw);
  const head_ = frameOnce(drawHead);
  on("groups", head_); on("presence", head_); on("blocks", head_);
  on("typing", (gid) => { if (gid === S.current) drawTyping(); });
  on("scroll", ({ gid, to }) => { if (gid === S.current) { wantScroll = to; redraw(); } });
  on("incoming", (m) => {
    const g = S.groups.get(m.group_id);
    const n = (m.attachments || []).length;
    const files = n === 0 ? "" : n === 1 ? ` (file: ${m.attachments[0].name})` : ` (${n} files)`;
    if (g) announce(`${senderName(g, m.sender_id)}: ${m.body.slice(0, 200)}${files}`);
  });
  setInterval(tickRoom, 1000);
  draw();
  return root;
}

function composerForm() {
  const ta = h("textarea", { name: "body", id: "composer-body", rows: 1, maxlength: 4000, placeholder: "Write a message…", autocomplete: "off" });
  const parts = attach.composerParts();
  replyBox = h("div", { class: "reply-box" });
  const suggestions = h("div", { class: "mention-box", "data-testid": "mention-suggestions" });
  const form = h("form", { class: "composer", "data-testid": "composer" },
    replyBox, suggestions, parts.tray, parts.input, parts.button,
    h("label", { for: "composer-body", class: "sr-only" }, "Message"), ta,
    h("button", { type: "submit", class: "primary" }, "Send"));
  ta.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
    else if (e.key === "Escape" && S.current && ui.replyOf(S.current) && !mentions.isOpen()) { e.preventDefault(); ui.clearReply(S.current); }
    else if (e.key === "ArrowUp" && !ta.value && S.current) {
      // Up in an empty composer edits one's last message, as in most chat apps.
      const c = S.convs.get(S.current);
      const last = c && [...c.msgs.values()].filter((m) => m.sender_id === S.me.id && !m.deleted).sort((a, b) => b.seq - a.seq)[0];
      if (last) { e.preventDefault(); editing = last.id; draw(); }
    }
  });
  ta.addEventListener("input", () => {
    grow(ta);
    if (S.current && ta.value.trim()) chat.typing(S.current);
  });
  mentions.attach(ta, suggestions);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    mentions.hide();
    const body = ta.value.trim();
    if (!S.current || (!body && !attach.waiting(S.current))) return;
    ta.value = ""; grow(ta);
    const reply = ui.replyOf(S.current);
    ui.clearReply(S.current);
    chat.send(S.current, body, undefined, attach.take(S.current), reply);
  });
  return form;
}

function drawReply() {
  if (!replyBox) return;
  const bar = S.current ? ui.replyBar(S.current, composer && composer.body) : null;
  replyBox.replaceChildren(...(bar ? [bar] : []));
  replyBox.hidden = !bar;
}

// Shows one message of the open conversation (a reply's original, a pin), highlighted.
function jump(gid, seq) {
  social.jump(gid, seq).catch((e) => announce("Could not show that message: " + api.explain(e)));
}

function startReply(m) {
  ui.setReply(m.group_id, m);
  composer.body.focus();
}

function grow(ta) {
  ta.style.height = "auto";
  // Not laid out (hidden, or not in the page yet): its height would read 0; keep the CSS one.
  if (!ta.scrollHeight) return;
  ta.style.height = Math.min(ta.scrollHeight + 2, 200) + "px";
  ta.style.overflowY = ta.scrollHeight > 200 ? "auto" : "hidden";
}

let headSig = null, roomSig = null;
function drawHead() {
  const g = S.groups.get(S.current);
  if (!g) {
    if (headSig !== "none") { head.replaceChildren(toggle, h("h2", { id: "conv-title", "data-testid": "conversation-title" }, "confab")); roomBar.replaceChildren(); headSig = "none"; roomSig = null; }
    return;
  }
  const title = chat.groupTitle(g);
  let sub = "";
  if (g.kind === "group") sub = `${g.member_count} members · you are ${g.my.role}`;
  else if (g.expires_at) sub = "anonymous chat with a stranger";
  const partner = g.kind === "direct" && !g.expires_at && g._partner ? names.user(g._partner) : null;
  if (g.kind === "direct" && !g.expires_at) { const seen = presence.label(partner); sub = partner ? "@" + partner.username + (seen ? " · " + seen : "") : "direct chat"; }
  const closed = chat.isClosed(g);
  closedNote.hidden = !closed;
  if (closed) { const t = closedText(g); if (closedNote.textContent !== t) closedNote.textContent = t; }
  composer.hidden = closed;
  if (g.expires_at) drawRoom(g); else { roomBar.replaceChildren(); roomSig = null; }
  // Rebuild only on a visible change, so focus and half-typed input survive live updates.
  const sigNow = [g.id, title, sub, g.kind, g._partner].join("|");
  if (sigNow === headSig) return;
  headSig = sigNow;
  const pic = avatar(g.kind === "direct" && g._partner ? g._partner : g.id, title);
  // "last seen 5 minutes ago" changes every minute: the keyboard stays on the same button.
  const focused = head.contains(document.activeElement) && document.activeElement !== toggle ? document.activeElement.dataset.testid : null;
  head.replaceChildren(toggle,
    partner ? presence.withDot(pic, partner) : pic,
    h("div", { class: "title-box" },
      h("h2", { id: "conv-title", "data-testid": "conversation-title" }, title),
      h("span", { class: "conv-sub" }, sub)),
    h("button", { type: "button", "data-testid": "pins-button", "aria-haspopup": "dialog", "aria-label": "Pinned messages", title: "Pinned messages", onclick: (e) => panels.openPins(g.id, jump, e.currentTarget) },
      h("span", { "aria-hidden": "true" }, "📌"), h("span", { class: "btn-label", "aria-hidden": "true" }, " Pinned")),
    h("button", { type: "button", "data-testid": "members-button", onclick: () => members.open(g.id), "aria-haspopup": "dialog" }, g.kind === "group" ? "Members" : "Details"));
  if (focused) { const b = head.querySelector(`[data-testid="${focused}"]`); if (b) b.focus({ preventScroll: true }); }
}

// A pool room: the countdown, my alias for it, close early.
function drawRoom(g) {
  const sigNow = [g.id, g.my.alias, chat.isClosed(g)].join("|");
  if (sigNow === roomSig) { tickRoom(); return; }
  roomSig = sigNow;
  const expiry = h("span", { class: "expiry", "data-testid": "room-expiry", role: "timer", "aria-live": "off" });
  const input = h("input", { name: "alias", id: "alias-input", maxlength: 100, value: g.my.alias || "", placeholder: "Stranger" });
  const err = h("span", { class: "error", role: "alert" });
  const form = h("form", { class: "alias-form", "data-testid": "alias-form" },
    h("label", { for: "alias-input" }, "Your name for this chat"), input,
    h("button", { type: "submit" }, "Save"), err);
  form.addEventListener("submit", async (e) => {
    e.preventDefault(); err.textContent = "";
    const alias = input.value.trim() || null;
    try { await api.put(`/groups/${g.id}/alias`, { alias }); await chat.refreshGroup(g.id); }
    catch (ex) { err.textContent = api.explain(ex); }
  });
  const close = h("button", { type: "button", class: "danger", "data-testid": "close-room", disabled: chat.isClosed(g), onclick: async () => {
    try { await chat.deleteGroup(g.id); } catch (ex) { err.textContent = api.explain(ex); }
  } }, "Close chat");
  roomBar.replaceChildren(expiry, form, close);
  tickRoom();
}

function tickRoom() {
  const g = S.groups.get(S.current);
  const el = roomBar && roomBar.querySelector("[data-testid=room-expiry]");
  if (!g || !g.expires_at || !el) return;
  const left = Date.parse(g.expires_at) - Date.now();
  el.textContent = g.closed_at || left <= 0 ? "This chat has closed" : "Closes in " + countdown(left);
  if (left <= 0 && !composer.hidden) { composer.hidden = true; closedNote.hidden = false; }
}

function drawTyping() {
  const g = S.groups.get(S.current);
  const who = g ? chat.typers(S.current).map((id) => senderName(g, id)) : [];
  typingEl.textContent = who.length === 0 ? "" : who.length === 1 ? `${who[0]} is typing…` : who.length === 2 ? `${who[0]} and ${who[1]} are typing…` : "Several people are typing…";
}

function canDelete(g, m) {
  if (m.deleted || chat.isClosed(g)) return false;
  return m.sender_id === S.me.id || (g.kind === "group" && (g.my.role === "owner" || g.my.role === "admin"));
}

function senderName(g, id) {
  if (id === S.me.id) return S.me.display_name || S.me.username;
  if (g.expires_at) return "Stranger";
  return names.name(id);
}

function messageEl(g, m) {
  const mine = m.sender_id === S.me.id;
  const hl = S.highlight && S.highlight.group_id === g.id && S.highlight.seq === m.seq;
  const mention = chat.mentionsMe(m);
  const li = h("li", {
    class: "msg" + (mine ? " mine" : "") + (mention ? " mention" : "") + (hl ? " hl" : ""),
    "data-testid": "message", "data-id": m.id, "data-seq": m.seq,
    "data-deleted": m.deleted ? "true" : null, "data-highlighted": hl ? "true" : null,
  });
  const who = senderName(g, m.sender_id);
  const meta = h("div", { class: "meta" },
    h("span", { class: "sender", "data-testid": "message-sender" }, who),
    h("time", { datetime: m.created_at, title: fullTime(m.created_at) }, time(m.created_at)),
    m.edited_at && !m.deleted ? h("span", { class: "edited", title: "edited " + fullTime(m.edited_at) }, "(edited)") : null,
    ui.pinMark(m));
  let body;
  if (editing === m.id && !m.deleted) body = editForm(m);
  else body = h("div", { class: "body" + (m.deleted ? " deleted" : ""), "data-testid": "message-body" }, m.deleted ? "This message was deleted." : ui.body(m));
  const open = !m.deleted && !chat.isClosed(g) && editing !== m.id;
  const nReplies = replyCounts.get(m.id) || 0;
  const thread = nReplies ? h("button", { type: "button", class: "link thread-link", "data-testid": "view-thread", "aria-haspopup": "dialog",
    onclick: (e) => panels.openThread(g.id, m, jump, e.currentTarget) }, nReplies === 1 ? "1 reply" : `${nReplies} replies`) : null;
  const actions = h("div", { class: "actions" },
    open ? h("button", { type: "button", "data-testid": "reply-message", "aria-label": "Reply to this message", onclick: () => startReply(m) }, "Reply") : null,
    open ? h("button", { type: "button", "data-testid": "add-reaction", "aria-label": "Add reaction", "aria-haspopup": "dialog", title: "Add reaction", onclick: (e) => ui.picker(m, e.currentTarget) }, "☺+") : null,
    open && social.canPin(g) ? h("button", { type: "button", "data-testid": m.pinned ? "unpin-message" : "pin-message", "aria-label": m.pinned ? "Unpin message" : "Pin message", onclick: () => ui.pin(m, !m.pinned) }, m.pinned ? "Unpin" : "Pin") : null,
    mine && !m.deleted && !chat.isClosed(g) && editing !== m.id ? h("button", { type: "button", "data-testid": "edit-message", "aria-label": "Edit message", onclick: () => { editing = m.id; draw(); } }, "Edit") : null,
    canDelete(g, m) && editing !== m.id ? h("button", { type: "button", "data-testid": "delete-message", "aria-label": "Delete message", onclick: () => chat.remove(m).catch((e) => announce("Delete failed: " + api.explain(e))) }, "Delete") : null,
    !mine && !m.deleted ? h("button", { type: "button", "data-testid": "report-message", "aria-label": "Report this message", "aria-haspopup": "dialog",
      onclick: (e) => openReport({ message_id: m.id }, `${who}'s message`, `${who}: ${excerptOf(m)}`, e.currentTarget) }, "Report") : null);
  li.append(avatar(m.sender_id === S.me.id || !g.expires_at ? m.sender_id : "stranger", who), h("div", { class: "bubble" }, meta,
    m.reply_to && !m.deleted ? ui.quote(g, m.reply_to, jump) : null, body, m.deleted ? null : attach.shown(m.attachments),
    m.deleted ? null : ui.reactions(g, m, !chat.isClosed(g)), thread, actions.childNodes.length ? actions : null));
  li._sig = sig(g, m);
  return li;
}

// What the report dialog quotes of a message.
function excerptOf(m) {
  const text = [...(m.body || "")];
  if (text.length) return text.length > 300 ? text.slice(0, 300).join("") + "…" : m.body;
  const n = (m.attachments || []).length;
  return n === 1 ? `(file: ${m.attachments[0].name})` : `(${n} files)`;
}

function sig(g, m) {
  return [m.rev, m.deleted, senderName(g, m.sender_id), editing === m.id, S.highlight && S.highlight.seq === m.seq && S.highlight.group_id === g.id, canDelete(g, m), g.my.role,
    m.reply_to ? ui.excerptText(g, m.reply_to) + ui.who(g, m.reply_to.sender_id) : "", replyCounts.get(m.id) || 0, ui.mentionSig(m),
    (m.reactions || []).map((r) => r.user_ids.map((id) => ui.who(g, id)).join()).join()].join("|");
}

function editForm(m) {
  const ta = h("textarea", { name: "body", id: "edit-" + m.id, rows: 2, maxlength: 4000, value: m.body });
  const err = h("span", { class: "error", role: "alert" });
  const form = h("form", { class: "edit-form", "data-testid": "edit-form" },
    h("label", { for: "edit-" + m.id, class: "sr-only" }, "Edit message"), ta,
    h("div", { class: "row" },
      h("button", { type: "submit", class: "primary" }, "Save"),
      h("button", { type: "button", onclick: cancel }, "Cancel"), err));
  function cancel() { editing = null; draw(); focusMessage(m.id); }
  ta.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); cancel(); }
    else if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = ta.value.trim();
    if (!body && !(m.attachments || []).length) { err.textContent = "A message cannot be empty."; return; }
    try { if (body !== m.body) await chat.edit(m, body); editing = null; draw(); focusMessage(m.id); }
    catch (ex) { err.textContent = api.explain(ex); }
  });
  requestAnimationFrame(() => { ta.focus(); ta.setSelectionRange(ta.value.length, ta.value.length); });
  return form;
}

// A redrawn message keeps the keyboard where it was: on the same control (a reaction chip by its
// emoji, Pin after Unpin), else on the message itself.
const TWIN = { "pin-message": "unpin-message", "unpin-message": "pin-message" };
function focusIn(el) {
  const a = document.activeElement;
  if (!a || a === document.body || !el.contains(a) || !a.dataset.testid) return () => {};
  const { testid, emoji } = a.dataset;
  return (n) => {
    const sel = (t) => `[data-testid="${t}"]` + (emoji ? `[data-emoji="${CSS.escape(emoji)}"]` : "");
    const to = n.querySelector(sel(testid)) || (TWIN[testid] && n.querySelector(sel(TWIN[testid])));
    if (to) to.focus({ preventScroll: true });
    else { n.setAttribute("tabindex", "-1"); n.focus({ preventScroll: true }); }
  };
}

function focusMessage(id) {
  requestAnimationFrame(() => { const b = list.querySelector(`[data-id="${CSS.escape(id)}"] [data-testid=edit-message]`); if (b) b.focus(); });
}

function pendingEl(p) {
  const failed = p.state === "failed";
  return h("li", { class: "msg mine pending" + (failed ? " failed" : ""), "data-testid": "message", "data-pending": "true", "data-client-id": p.client_id },
    avatar(S.me.id, S.me.display_name || S.me.username),
    h("div", { class: "bubble" },
      h("div", { class: "meta" }, h("span", { class: "sender", "data-testid": "message-sender" }, S.me.display_name || S.me.username),
        h("span", { class: "state" }, failed ? "" : "sending…")),
      p.reply && S.groups.has(p.group_id) ? ui.quote(S.groups.get(p.group_id), p.reply, null) : null,
      h("div", { class: "body", "data-testid": "message-body" }, linkify(p.body)),
      attach.sending(p.uploads),
      failed ? h("div", { class: "send-failed", role: "alert" },
        h("span", null, "Not sent" + (p.error ? ` (${p.error})` : "") + " — "),
        h("button", { type: "button", class: "link", "data-testid": "retry-message", onclick: () => chat.retry(p.client_id) }, "retry"),
        h("button", { type: "button", class: "link", onclick: () => chat.discard(p.client_id) }, "discard")) : null));
}

// Under the newest message that others have read: who has read up to it.
function seenBy(g, msgs) {
  const readers = S.readers.get(g.id);
  if (!readers || !msgs.length) return null;
  let target = null;
  for (const [, seq] of readers) {
    for (let i = msgs.length - 1; i >= 0; i--) if (msgs[i].seq <= seq) { if (!target || msgs[i].seq > target.seq) target = msgs[i]; break; }
  }
  if (!target) return null;
  const who = [...readers].filter(([uid, seq]) => seq >= target.seq && uid !== S.me.id && uid !== target.sender_id).map(([uid]) => g.expires_at ? "Stranger" : names.name(uid));
  if (!who.length) return null;
  return { after: target.seq, text: "Seen by " + who.join(", ") };
}

function draw() {
  drawHead();
  drawTyping();
  const g = S.groups.get(S.current);
  root.classList.toggle("empty", !g);
  if (!g) {
    list.replaceChildren(h("li", { class: "placeholder" }, "Pick a conversation, or start one with + Group or + Direct."));
    olderBtn.hidden = true; newerBtn.parentNode.hidden = true; composer.hidden = true;
    shownGroup = null;
    return;
  }
  const c = conv(g.id);
  if (shownGroup !== g.id) { list.replaceChildren(); shownGroup = g.id; }
  const msgs = [...c.msgs.values()].sort((a, b) => a.seq - b.seq);
  replyCounts = new Map();
  for (const m of msgs) if (m.reply_to && !m.deleted) replyCounts.set(m.reply_to.id, (replyCounts.get(m.reply_to.id) || 0) + 1);
  const pend = [...S.pending.values()].filter((p) => p.group_id === g.id);
  const seen = seenBy(g, msgs);
  const items = [];
  let day = null;
  const from = S.unreadFrom && S.unreadFrom.group_id === g.id ? S.unreadFrom.seq : null;
  let divided = from == null;
  for (const m of msgs) {
    if (!divided && m.seq > from && m.sender_id !== S.me.id) { divided = true; if (m !== msgs[0] || c.moreBefore) items.push({ key: "new", divider: true }); }
    const k = dayKey(m.created_at);
    if (k !== day) { day = k; items.push({ key: "day-" + k, day: m.created_at }); }
    items.push({ key: "m-" + m.id, m });
    if (seen && seen.after === m.seq) items.push({ key: "seen", seen: seen.text });
  }
  if (pend.length && dayKey(new Date().toISOString()) !== day) items.push({ key: "day-" + dayKey(new Date().toISOString()), day: new Date().toISOString() });
  for (const p of pend) items.push({ key: "p-" + p.client_id + "-" + p.state + (p.error || ""), p });
  if (c.loaded && !msgs.length && !pend.length) items.push({ key: "none", none: true });

  // Keep what the user looks at in place while older messages are added above it.
  const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 60;
  let anchor = null, anchorTop = 0;
  if (!atBottom) {
    const top = scroller.getBoundingClientRect().top;
    // Day separators move with the messages they head, so only a message can anchor.
    for (const el of list.querySelectorAll("[data-seq]")) { const r = el.getBoundingClientRect(); if (r.bottom > top) { anchor = el; anchorTop = r.top; break; } }
  }
  const make = (it) => it.m ? messageEl(g, it.m) : it.p ? pendingEl(it.p)
    : it.seen ? h("li", { class: "seen", "data-testid": "seen-by" }, it.seen)
    : it.none ? h("li", { class: "placeholder" }, "No messages yet. Say hello!")
    : it.divider ? h("li", { class: "new-divider" }, h("span", null, "New messages"))
    : h("li", { class: "day", "data-testid": "day-separator" }, h("span", null, dayLabel(it.day)));
  reconcile(list, items, (it) => it.key, make, (el, it) => {
    if (it.m && el._sig !== sig(g, it.m)) { const n = messageEl(g, it.m); n.dataset.key = it.key; const back = focusIn(el); el.replaceWith(n); back(n); return n; }
    if (it.seen && el.textContent !== it.seen) el.textContent = it.seen;
    return el;
  });
  olderBtn.hidden = !c.moreBefore;
  newerBtn.parentNode.hidden = !c.moreAfter;
  composer.hidden = chat.isClosed(g);

  if (wantScroll === "bottom" || (atBottom && wantScroll == null)) scroller.scrollTop = scroller.scrollHeight;
  else if (typeof wantScroll === "number") {
    const el = list.querySelector(`[data-seq="${wantScroll}"]`);
    if (el) { el.scrollIntoView({ block: "center" }); el.setAttribute("tabindex", "-1"); el.focus({ preventScroll: true }); }
  } else if (anchor && anchor.isConnected) scroller.scrollTop += anchor.getBoundingClientRect().top - anchorTop;
  wantScroll = null;
  if (shownGroupFocus !== g.id) { shownGroupFocus = g.id; if (!composer.hidden && matchMedia("(min-width: 721px)").matches) composer.body.focus({ preventScroll: true }); }
  track();
  // A short window that does not scroll yet: fetch more so scroll-up paging can start.
  if (c.moreBefore && scroller.scrollHeight <= scroller.clientHeight + 10) older();
}
let shownGroupFocus = null;

async function older() {
  if (!S.current) return;
  try { await chat.loadOlder(S.current); } catch (e) { announce("Could not load older messages: " + api.explain(e)); }
}
async function newer() {
  if (!S.current) return;
  try { await chat.loadNewer(S.current); } catch (e) { announce("Could not load newer messages: " + api.explain(e)); }
}

function onScroll() {
  if (scroller.scrollTop < 200) older();
  const c = S.current && S.convs.get(S.current);
  if (c && c.moreAfter && scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 200) newer();
  track();
}

// What is on screen decides the read marker.
function track() {
  const c = S.current && S.convs.get(S.current);
  S.atBottom = !c || (!c.moreAfter && scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 60);
  if (!S.current) return;
  const rect = scroller.getBoundingClientRect();
  if (!rect.height) return;
  const els = list.querySelectorAll("[data-seq]");
  for (let i = els.length - 1; i >= 0; i--) {
    const r = els[i].getBoundingClientRect();
    if (r.top < rect.bottom - 8 && r.bottom > rect.top) { chat.setVisible(S.current, Number(els[i].dataset.seq)); return; }
    if (r.bottom <= rect.top) return;
  }
}
window.addEventListener("focus", () => track());
