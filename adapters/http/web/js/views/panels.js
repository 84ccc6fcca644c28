// views/panels.js — two lists that open over the conversation: a message's thread (its
// replies, paged with `after`, followed live, with a composer that replies to it) and the
// group's pinned messages (most recently pinned first; choosing one jumps to it). Both are
// modal dialogs (Escape closes them, focus returns to the button that opened them). They must
// never show user text as anything but text, and stop listening once closed.
import { h, dialog, field, focusBack } from "../dom.js";
import { S, on } from "../state.js";
import * as chat from "../chat.js";
import * as social from "../social.js";
import * as api from "../api.js";
import { time, fullTime } from "../format.js";
import * as ui from "./social.js";

function excerpt(m) {
  if (m.deleted) return "This message was deleted.";
  if (m.body) return m.body.length > 200 ? m.body.slice(0, 200) + "…" : m.body;
  const n = (m.attachments || []).length;
  return n === 1 ? `(file: ${m.attachments[0].name})` : n ? `(${n} files)` : "";
}

function line(g, m, ...rest) {
  return [
    h("div", { class: "meta" },
      h("span", { class: "sender", "data-testid": "message-sender" }, ui.who(g, m.sender_id)),
      h("time", { datetime: m.created_at, title: fullTime(m.created_at) }, time(m.created_at)),
      ui.pinMark(m)),
    h("div", { class: "body" + (m.deleted ? " deleted" : ""), "data-testid": "message-body" }, m.deleted ? "This message was deleted." : ui.body(m)),
    ...rest];
}

// ---- the thread ---------------------------------------------------------------------------

// Opens the replies to `root` (a message of group `gid`); `onJump(gid, seq)` shows one in the
// conversation.
export function openThread(gid, root, onJump, from) {
  const g = S.groups.get(gid);
  if (!g) return;
  const shown = new Map(); // seq -> reply
  let more = false, loading = false;
  const head = h("div", { class: "thread-root", "data-testid": "thread-root", "data-id": root.id });
  const list = h("ol", { class: "thread-list", "data-testid": "thread-replies", "aria-label": "Replies" });
  const moreBtn = h("button", { type: "button", class: "more", "data-testid": "thread-more", hidden: true, onclick: () => page() }, "Load more replies");
  const status = h("p", { class: "note", role: "status" }, "Loading replies…");
  const ta = h("textarea", { name: "body", rows: 2, maxlength: 4000, placeholder: "Reply in thread…", autocomplete: "off" });
  const form = h("form", { class: "thread-composer", "data-testid": "thread-composer", hidden: chat.isClosed(g) },
    field("Reply", ta), h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Reply")));
  let back = focusBack(from); // null once the dialog jumps elsewhere
  const d = dialog("Thread", "thread", head, status, list, moreBtn, form);
  d.classList.add("panel");

  function drawRoot() {
    head.replaceChildren(...line(g, root,
      h("button", { type: "button", class: "link", "data-testid": "thread-jump", onclick: () => { back = null; d.close(); onJump(gid, root.seq); } }, "Show in conversation")));
  }
  function draw() {
    const replies = [...shown.values()].sort((a, b) => a.seq - b.seq);
    const pend = [...S.pending.values()].filter((p) => p.reply && p.reply.id === root.id);
    list.replaceChildren(
      ...replies.map((m) => h("li", { class: "msg", "data-testid": "thread-reply", "data-id": m.id, "data-seq": m.seq, "data-deleted": m.deleted ? "true" : null },
        h("div", { class: "bubble" }, ...line(g, m, m.deleted ? null : ui.reactions(g, m, !chat.isClosed(g)))))),
      ...pend.map((p) => h("li", { class: "msg pending", "data-testid": "thread-reply", "data-pending": "true", "data-client-id": p.client_id },
        h("div", { class: "bubble" },
          h("div", { class: "body", "data-testid": "message-body" }, p.body),
          h("span", { class: "note" }, p.state === "failed" ? `Not sent${p.error ? ` (${p.error})` : ""} — retry it in the conversation` : "sending…")))));
    moreBtn.hidden = !more;
    status.textContent = replies.length || pend.length ? `${replies.length}${more ? "+" : ""} ${replies.length === 1 ? "reply" : "replies"}` : "No replies yet.";
  }
  async function page() {
    if (loading) return;
    loading = true;
    try {
      const after = shown.size ? Math.max(...shown.keys()) : 0;
      const r = await social.replies(root.id, after);
      for (const m of r.messages) { const old = shown.get(m.seq); if (!old || old.rev <= m.rev) shown.set(m.seq, m); }
      more = r.has_more;
      draw();
    } catch (e) { status.textContent = "Could not load replies: " + api.explain(e); }
    finally { loading = false; }
  }
  const offs = [
    on("message", (m) => {
      if (m.id === root.id) { root = m; drawRoot(); return; }
      if (!m.reply_to || m.reply_to.id !== root.id) return;
      const old = shown.get(m.seq);
      if (old ? old.rev <= m.rev : !more) { shown.set(m.seq, m); draw(); }
    }),
    on("deleted", (f) => {
      const old = shown.get(f.seq);
      if (f.group_id === gid && old) { shown.set(f.seq, { ...old, deleted: true, body: "", reactions: [], rev: f.rev }); draw(); }
      if (f.group_id === gid && f.seq === root.seq) { root = { ...root, deleted: true, body: "", pinned: false }; drawRoot(); }
    }),
    on("conv", (id) => { if (id === gid) draw(); }),
    on("names", () => { drawRoot(); draw(); }),
  ];
  d.addEventListener("close", () => { offs.forEach((off) => off()); if (back) back(); });
  ta.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const body = ta.value.trim();
    if (!body) return;
    ta.value = "";
    chat.send(gid, body, undefined, [], ui.refOf(root));
    draw();
  });
  drawRoot();
  page();
  ta.focus();
}

// ---- pins ---------------------------------------------------------------------------------

// The group's pinned messages; choosing one closes the list and jumps to it.
export function openPins(gid, onJump, from) {
  const g = S.groups.get(gid);
  if (!g) return;
  let pins = [];
  const status = h("p", { class: "note", role: "status" }, "Loading pinned messages…");
  const list = h("ul", { class: "result-list", "data-testid": "pinned-list", "aria-label": "Pinned messages" });
  let back = focusBack(from); // null once the dialog jumps elsewhere
  const d = dialog("Pinned messages", "pins", status, list);
  d.classList.add("panel");
  function draw() {
    status.textContent = pins.length ? `${pins.length} pinned` : "Nothing is pinned here yet.";
    list.replaceChildren(...pins.map((m) => h("li", { class: "pinned-item" },
      h("button", { type: "button", class: "result", "data-testid": "pinned-message", "data-id": m.id, "data-seq": m.seq,
        onclick: () => { back = null; d.close(); onJump(gid, m.seq); } },
      h("span", { class: "result-head" }, ui.who(g, m.sender_id), " · ", fullTime(m.created_at)),
      h("span", { class: "result-body" }, excerpt(m))),
      social.canPin(g) ? h("button", { type: "button", class: "small", "data-testid": "unpin-pinned", "aria-label": "Unpin this message", onclick: () => ui.pin(m, false) }, "Unpin") : null)));
  }
  social.pins(gid).then((ms) => { pins = ms; draw(); }, (e) => { status.textContent = "Could not load pinned messages: " + api.explain(e); });
  const offs = [
    on("message", (m) => {
      if (m.group_id !== gid) return;
      const at = pins.findIndex((x) => x.id === m.id);
      if (at >= 0 && !m.pinned) pins.splice(at, 1);
      else if (at >= 0) pins[at] = m;
      else if (m.pinned) pins.unshift(m); // just pinned: the most recent
      else return;
      draw();
    }),
    on("deleted", (f) => { const n = pins.length; pins = pins.filter((x) => !(x.group_id === f.group_id && x.seq === f.seq)); if (pins.length !== n) draw(); }),
    on("names", draw),
  ];
  d.addEventListener("close", () => { offs.forEach((off) => off()); if (back) back(); });
}
