// views/presence.js — who is online: a dot (filled when online, a ring when not, so it is not
// told by colour alone) with the accessible name "online" or "last seen 5 minutes ago", for the
// member list, the sidebar's direct chats and a direct chat's header. Users come from names.js,
// which chat.js keeps live from `presence` events; relative times are redrawn every minute.
// It must never show a dot for a server that sends no presence (no `online` on users), nor for
// the stranger in a pool room.
import { h } from "../dom.js";
import { emit } from "../state.js";
import { ago } from "../format.js";

// "online", "last seen …", "offline" (never seen); null when the server tells nothing.
export function label(u) {
  if (!u || typeof u.online !== "boolean") return null;
  if (u.online) return "online";
  return u.last_seen_at ? "last seen " + ago(u.last_seen_at) : "offline";
}

// The dot for user `u`, or null.
export function dot(u) {
  const text = label(u);
  if (!text) return null;
  return h("span", { class: "presence" + (u.online ? " on" : ""), "data-testid": "presence", "data-user-id": u.id,
    "data-online": u.online ? "true" : "false", role: "img", "aria-label": text, title: text });
}

// An avatar with the user's dot at its corner (the avatar alone when there is no dot).
export function withDot(avatarEl, u) {
  const d = dot(u);
  return d ? h("span", { class: "avatar-wrap" }, avatarEl, d) : avatarEl;
}

// What redraws must compare to notice a change.
export const sig = (u) => label(u) || "";

// "last seen 4 minutes ago" moves with the clock.
setInterval(() => emit("presence", null), 60000);
