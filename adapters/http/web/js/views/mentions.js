// views/mentions.js — completing `@name` in the composer: while the word before the caret
// starts with "@", up to six members of the open group whose username or name starts with what
// follows are offered as buttons above the text; Tab takes the first, Escape hides them, and
// choosing one writes "@username ". Members come from names.js's cached list (no request per
// keystroke). It must never offer anyone in a stranger room (names are hidden there).
import { h, announce } from "../dom.js";
import { S } from "../state.js";
import * as names from "../names.js";

const TOKEN = /(^|[^\p{L}\p{N}_.@-])@([a-z0-9_.-]{0,32})$/iu;
let ta = null, box = null, shown = [], seq = 0;

export const isOpen = () => shown.length > 0;

export function hide() { shown = []; if (box) { box.replaceChildren(); box.hidden = true; } }

// Wires completion to the composer's textarea; `container` holds the suggestions.
export function attach(textarea, container) {
  ta = textarea; box = container; box.hidden = true;
  ta.addEventListener("input", suggest);
  ta.addEventListener("blur", () => setTimeout(() => { if (box && !box.contains(document.activeElement)) hide(); }, 150));
  ta.addEventListener("keydown", (e) => {
    if (!isOpen()) return;
    if (e.key === "Tab" && !e.shiftKey) { e.preventDefault(); pick(shown[0]); }
    else if (e.key === "Escape") { e.preventDefault(); hide(); }
  });
}

async function suggest() {
  const g = S.groups.get(S.current);
  const m = ta.value.slice(0, ta.selectionEnd).match(TOKEN);
  if (!g || g.expires_at || !m) { hide(); return; }
  const q = m[2].toLowerCase();
  const mine = ++seq;
  let members;
  try { members = await names.members(g.id); } catch { return; }
  if (mine !== seq) return; // typed on meanwhile
  const found = members.map((x) => x.user)
    .filter((u) => u.id !== S.me.id && (u.username.startsWith(q) || (u.display_name || "").toLowerCase().startsWith(q)))
    .slice(0, 6);
  if (!found.length) { hide(); return; }
  const was = shown.length;
  shown = found;
  box.hidden = false;
  box.replaceChildren(
    h("span", { class: "sr-only" }, "Mention:"),
    ...found.map((u) => h("button", { type: "button", class: "small", "data-testid": "mention-suggestion", "data-username": u.username,
      onclick: () => pick(u) }, "@" + u.username, u.display_name ? h("span", { class: "note" }, " " + u.display_name) : null)));
  if (!was) announce(`${found.length} ${found.length === 1 ? "person" : "people"} to mention: Tab takes @${found[0].username}.`);
}

function pick(u) {
  const end = ta.selectionEnd;
  const before = ta.value.slice(0, end).replace(/@[a-z0-9_.-]*$/i, "@" + u.username + " ");
  ta.value = before + ta.value.slice(end).replace(/^[a-z0-9_.-]+\s?/i, "");
  ta.setSelectionRange(before.length, before.length);
  hide();
  ta.focus();
  ta.dispatchEvent(new Event("input"));
}
