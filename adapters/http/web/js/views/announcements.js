// views/announcements.js — server-wide announcements: a dismissable banner for the newest one
// not yet dismissed (remembered in localStorage) and a dialog listing them all, newest first.
// It must never show an announcement's text as anything but text.
import { h, dialog, announce, field } from "../dom.js";
import { S, on } from "../state.js";
import * as chat from "../chat.js";
import * as names from "../names.js";
import * as api from "../api.js";
import { fullTime, linkify } from "../format.js";

const KEY = "confab.dismissed";
let banner;
const dismissed = () => { try { return new Set(JSON.parse(localStorage.getItem(KEY) || "[]")); } catch { return new Set(); } };

export function mountBanner() {
  banner = h("div", { class: "banner", "data-testid": "announcement-banner", role: "region", "aria-label": "Announcement", hidden: true });
  on("announcements", (fresh) => { draw(); if (fresh) announce("Announcement: " + fresh.body.slice(0, 200)); });
  return banner;
}

function draw() {
  const gone = dismissed();
  const a = S.announcements.find((x) => !gone.has(x.id));
  if (!a) { banner.hidden = true; banner.replaceChildren(); return; }
  banner.hidden = false;
  banner.replaceChildren(
    h("strong", { class: "banner-label" }, "Announcement"),
    h("p", null, linkify(a.body)),
    h("button", { type: "button", class: "link", onclick: openList }, "All"),
    h("button", { type: "button", class: "icon-btn", "data-testid": "dismiss-announcement", "aria-label": "Dismiss announcement", onclick: () => {
      const s = dismissed(); s.add(a.id);
      localStorage.setItem(KEY, JSON.stringify([...s].slice(-200)));
      draw();
    } }, "×"));
}

export function openList() {
  const ul = h("ul", { class: "ann-list", "data-testid": "announcements" });
  const more = h("button", { type: "button", hidden: true, onclick: () => chat.loadAnnouncements(true).catch(() => {}) }, "Older announcements");
  const fill = () => {
    ul.replaceChildren(...(S.announcements.length ? S.announcements.map((a) => h("li", { class: "ann", "data-id": a.id },
      h("div", { class: "meta" }, h("strong", null, names.name(a.sender_id)), " · ", h("time", { datetime: a.created_at }, fullTime(a.created_at))),
      h("p", null, linkify(a.body)))) : [h("li", { class: "placeholder" }, "No announcements yet.")]));
    more.hidden = !S.announcementsMore;
  };
  fill();
  const off = on("announcements", fill);
  const offN = on("names", fill);
  let post = null;
  if (S.me.roles && S.me.roles.includes("admin")) {
    const err = h("p", { class: "error", role: "alert" });
    post = h("form", { "data-testid": "announce-form" },
      field("New announcement to every user", h("textarea", { name: "body", rows: 2, maxlength: 4000, required: true })),
      err, h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Announce")));
    post.addEventListener("submit", async (e) => {
      e.preventDefault(); err.textContent = "";
      try { await api.post("/announcements", { body: post.body.value.trim() }); post.body.value = ""; }
      catch (ex) { err.textContent = api.explain(ex); }
    });
  }
  const d = dialog("Announcements", "announcements-dialog", post, ul, more);
  d.addEventListener("close", () => { off(); offN(); });
  chat.loadAnnouncements().catch((e) => ul.replaceChildren(h("li", { class: "error" }, api.explain(e))));
}
