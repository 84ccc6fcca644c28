// views/moderation.js — what a person can do about someone else: the report dialog (a message
// or a user, with a reason of 1–1000 characters), Block / Unblock and "Report" beside a member,
// and the list of people I block (in the profile) with Unblock. It must never show a reason,
// a name or a message as anything but text, and never say to anyone that they were blocked.
import { h, dialog, field, announce } from "../dom.js";
import { on } from "../state.js";
import * as mod from "../moderation.js";
import * as names from "../names.js";
import * as api from "../api.js";
import { avatar } from "../format.js";
import { notify } from "./social.js";

// ---- reporting ---------------------------------------------------------------------------

// Opens the report dialog. `target` is `{message_id}` or `{user_id}`; `what` says what is
// reported ("Alice's message", "Alice"), `excerpt` quotes the message; the focus goes back to
// `from` when it closes.
export function openReport(target, what, excerpt, from) {
  const err = h("p", { class: "error", role: "alert", "data-testid": "form-error" });
  const reason = h("textarea", { name: "reason", rows: 3, maxlength: mod.REASON_MAX, required: true, autocomplete: "off" });
  const form = h("form", { "data-testid": "report-form" },
    excerpt ? h("blockquote", { class: "report-excerpt", "data-testid": "report-excerpt" }, excerpt) : null,
    field("Why are you reporting " + (target.message_id ? "this message" : "this person") + "?", reason,
      `Up to ${mod.REASON_MAX} characters. Only this server's admins read reports; ${target.message_id ? "they see the message as it is now, even if it is edited or deleted later" : "the person is not told who reported them"}.`),
    err,
    h("div", { class: "row" },
      h("button", { type: "submit", class: "primary" }, "Send report"),
      h("button", { type: "button", onclick: () => d.close() }, "Cancel")));
  const d = dialog(`Report ${what}`, "report-dialog", form);
  d.addEventListener("close", () => { if (from && from.isConnected) from.focus(); });
  form.addEventListener("submit", async (e) => {
    e.preventDefault(); err.textContent = "";
    const text = reason.value.trim();
    if (!text) { err.textContent = "Say in a few words what is wrong."; reason.focus(); return; }
    if ([...text].length > mod.REASON_MAX) { err.textContent = `At most ${mod.REASON_MAX} characters.`; reason.focus(); return; }
    const send = form.querySelector("button[type=submit]");
    send.disabled = true;
    try {
      await mod.report(target, text);
      d.close();
      notify("Thank you: your report was sent to the admins.");
    } catch (ex) {
      err.textContent = ex.code === "rate_limited" ? "You have sent many reports just now. " + api.explain(ex)
        : ex.code === "not_found" ? (target.message_id ? "That message cannot be reported: it is gone, or you are no longer in its conversation." : "That person cannot be found.")
        : ex.code === "validation_failed" && ex.field === "reason" ? `The reason must be 1–${mod.REASON_MAX} characters.`
        : api.explain(ex);
    } finally { send.disabled = false; }
  });
  reason.focus();
  return d;
}

// ---- blocking ----------------------------------------------------------------------------

// Block / Unblock and Report for one person (a member row; `shown` is their name as shown
// there). Blocking closes our direct chats: the server's `group.closed` shows it.
export function personActions(user, shown, onError) {
  const blocked = mod.isBlocked(user.id);
  const toggle = h("button", { type: "button", class: "small" + (blocked ? "" : " danger"), "data-testid": blocked ? "unblock-user" : "block-user",
    "aria-label": (blocked ? "Unblock " : "Block ") + shown,
    title: blocked ? "Let them start direct chats with you again" : "No direct chats with them, never matched with them; your direct chats with them close",
    onclick: async (e) => {
      const b = e.currentTarget;
      b.disabled = true;
      try {
        if (blocked) { await mod.unblock(user.id); announce(`${shown} is no longer blocked.`); }
        else { await mod.block(user); announce(`You blocked ${shown}. Your direct chats with them are closed.`); }
      } catch (ex) { b.disabled = false; onError(api.explain(ex)); }
    } }, blocked ? "Unblock" : "Block");
  const report = h("button", { type: "button", class: "small", "data-testid": "report-user", "aria-label": "Report " + shown, "aria-haspopup": "dialog",
    onclick: (e) => openReport({ user_id: user.id }, shown, null, e.currentTarget) }, "Report");
  return h("span", { class: "person-actions" }, toggle, report);
}

// The people I block, each with Unblock (in the profile dialog).
export function blockedSection() {
  const list = h("ul", { class: "member-list", "data-testid": "blocked-users", "aria-label": "People you block" });
  const status = h("p", { class: "note", role: "status" }, "Loading…");
  const section = h("section", { class: "blocked", "aria-labelledby": "blocked-title" },
    h("h3", { id: "blocked-title" }, "Blocked people"),
    h("p", { class: "hint" }, "They cannot start a direct chat with you and are never matched with you as a stranger. They are not told."),
    status, list);
  const draw = (users) => {
    status.textContent = users.length ? "" : "You block nobody.";
    list.replaceChildren(...users.map((u) => {
      const shown = u.display_name || u.username;
      return h("li", { class: "member", "data-testid": "blocked-user", "data-user-id": u.id },
        avatar(u.id, shown),
        h("span", { class: "member-name" }, shown, h("small", null, " @" + u.username)),
        h("button", { type: "button", class: "small", "data-testid": "unblock-user", "aria-label": "Unblock " + shown, onclick: async (e) => {
          e.currentTarget.disabled = true;
          try { await mod.unblock(u.id); announce(`${shown} is no longer blocked.`); }
          catch (ex) { status.textContent = api.explain(ex); }
        } }, "Unblock"));
    }));
  };
  const load = (fresh) => mod.blocks(fresh).then(draw, (ex) => { status.textContent = "Could not read the list: " + api.explain(ex); });
  const off = on("blocks", () => { if (!section.isConnected) { off(); return; } load(false); });
  load(true);
  return section;
}

// What a closed direct chat says: that I blocked them, when I did (the other side only sees
// that it closed).
export function closedText(g) {
  const other = g && g.kind === "direct" && !g.expires_at ? g._partner : null;
  if (other && mod.isBlocked(other)) {
    const u = names.user(other);
    return `You blocked ${u ? u.display_name || u.username : "this person"}: this chat is closed. Unblock them (⚙ Profile) to start a new one.`;
  }
  return "This chat is closed: you can read it, but not write.";
}
