// format.js — pure helpers for text: ids, times, initials, names and safe links.
// It must never touch the network or global state; links are only ever http(s) URLs checked
// with new URL, never a string used as markup.
import { h } from "./dom.js";

// crypto.randomUUID only exists in secure contexts; self-hosters on a LAN address over http
// still need client_ids.
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((n) => n.toString(16).padStart(2, "0")).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export const time = (iso) => timeFmt.format(new Date(iso));
export const fullTime = (iso) => fullFmt.format(new Date(iso));
export function dayKey(iso) { const d = new Date(iso); return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`; }
export function dayLabel(iso) {
  const d = new Date(iso), now = new Date();
  const y = new Date(now); y.setDate(now.getDate() - 1);
  if (dayKey(iso) === dayKey(now.toISOString())) return "Today";
  if (dayKey(iso) === dayKey(y.toISOString())) return "Yesterday";
  return dayFmt.format(d);
}

// How long ago `iso` was, in words ("just now", "5 minutes ago", "yesterday", "on 3 Dec 2025").
const relFmt = typeof Intl.RelativeTimeFormat === "function" ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }) : null;
const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
export function ago(iso, now = Date.now()) {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (!Number.isFinite(s) || s < 45) return "just now";
  const rel = (n, unit) => (relFmt ? relFmt.format(-n, unit) : `${n} ${unit}${n === 1 ? "" : "s"} ago`);
  if (s < 3600) return rel(Math.max(1, Math.round(s / 60)), "minute");
  if (s < 86400) return rel(Math.round(s / 3600), "hour");
  if (s < 7 * 86400) return rel(Math.round(s / 86400), "day");
  return "on " + dateFmt.format(new Date(iso));
}

export function countdown(ms) {
  if (ms <= 0) return "expired";
  const s = Math.floor(ms / 1000), hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
  const p = (n) => String(n).padStart(2, "0");
  return `${hh}:${p(mm)}:${p(ss)}`;
}

export function initials(name) {
  const words = String(name || "?").split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  const s = words.length > 1 ? words[0][0] + words[1][0] : (words[0] || "?").slice(0, 2);
  return s.toUpperCase();
}

// A stable hue per id. At 30% lightness even the brightest hue (yellow) keeps white initials
// above AA (4.7:1); 34% fell to 4.3 on yellow-green.
export function hue(id) {
  let n = 0;
  for (const c of String(id)) n = (n * 31 + c.charCodeAt(0)) >>> 0;
  return n % 360;
}

export function avatar(id, name, cls = "avatar") {
  const el = h("span", { class: cls, "aria-hidden": "true" }, initials(name));
  el.style.backgroundColor = `hsl(${hue(id)} 55% 30%)`;
  return el;
}

export const userName = (u) => (u ? u.display_name || u.username : null);

const URL_RE = /https?:\/\/[^\s<>"]+/gi;
const TRAIL = /[.,!?;:'")\]}]+$/;

// Text with http(s) URLs turned into links; everything else stays text nodes.
export function linkify(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    let raw = m[0];
    const trail = raw.match(TRAIL);
    if (trail) raw = raw.slice(0, -trail[0].length);
    let url = null;
    try { url = new URL(raw); } catch { url = null; }
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) continue;
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(h("a", { href: url.href, rel: "noopener noreferrer nofollow", target: "_blank" }, raw));
    last = m.index + raw.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}
