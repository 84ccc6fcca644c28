// views/attachments.js — files in the conversation: what a message carries (images as
// thumbnails loaded as they scroll into view, a click opening the full image; other files as a
// card that downloads on click), and what the composer is about to send (a paperclip button and
// file picker, drag-and-drop and paste, one chip per file with its progress, a remove button and
// the server's refusal). It must never load a full image or file before it is asked for, never
// leave a blob: URL alive once nothing shows it, and never insert a file name as anything but
// text.
import { h, dialog, announce } from "../dom.js";
import { S, on } from "../state.js";
import * as files from "../files.js";
import * as api from "../api.js";

const trays = new Map(); // group id -> uploads not yet sent
let tray, note, lazy = null;

// ---- in messages --------------------------------------------------------------------------

// The attachments of a message shown in the list (null when it has none).
export function shown(list) {
  if (!list || !list.length) return null;
  return h("ul", { class: "atts", "data-testid": "attachments", "aria-label": "Attachments" },
    list.map((a) => h("li", null, files.isImage(a) ? thumb(a) : card(a))));
}

// Fits the image in 240 px (its thumbnail is up to 512): the box is known before it loads.
function box(a) {
  const w = a.width || 160, ht = a.height || 120;
  const k = Math.min(1, 240 / Math.max(w, ht));
  return [Math.max(1, Math.round(w * k)), Math.max(1, Math.round(ht * k))];
}

function thumb(a) {
  const [w, ht] = box(a);
  const img = h("img", { alt: a.name, width: w, height: ht, "data-testid": "attachment-thumbnail" });
  const btn = h("button", { type: "button", class: "att-img", "data-testid": "attachment-image", "data-attachment-id": a.id,
    title: `${a.name} (${files.size(a.size)})`, onclick: () => view(a, btn) }, img);
  img._att = a;
  if (lazy) lazy.observe(img); else load(img);
  return btn;
}

function load(img) {
  const t = files.thumbnail(img._att);
  const set = (url) => { img.src = url; img.dataset.loaded = "true"; };
  if (t.url) set(t.url);
  else t.promise.then(set, () => { img.dataset.failed = "true"; });
}

function card(a) {
  const btn = h("button", { type: "button", class: "att-file", "data-testid": "attachment-file", "data-attachment-id": a.id, onclick: () => save(a, btn) },
    icon(FILE),
    h("span", { class: "att-text" },
      h("span", { class: "att-name", "data-testid": "attachment-name" }, a.name),
      h("span", { class: "att-size" }, `${files.size(a.size)} · Download`)));
  return btn;
}

// Fetched with the token, handed to the browser as a download under the file's own name.
async function save(a, btn) {
  if (btn.getAttribute("aria-busy")) return;
  btn.setAttribute("aria-busy", "true");
  try {
    const url = await files.blobUrl(`/attachments/${a.id}`);
    const link = h("a", { href: url, download: a.name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    // The browser has the bytes once the download started; a minute is ample.
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    btn.dataset.downloaded = "true";
  } catch (e) {
    announce(`Could not download ${a.name}: ${api.explain(e)}`);
  } finally { btn.removeAttribute("aria-busy"); }
}

// The full image in a dialog; Escape or Close ends it, its blob: URL goes, focus comes back.
function view(a, from) {
  const [w, ht] = [a.width || 0, a.height || 0];
  const status = h("p", { class: "note", role: "status" }, "Loading…");
  const img = h("img", { alt: a.name, class: "full", "data-testid": "full-image", hidden: true, width: w || null, height: ht || null });
  const dl = h("button", { type: "button", "data-testid": "download-attachment", onclick: () => save(a, dl) }, `Download (${files.size(a.size)})`);
  const d = dialog(a.name, "image-viewer", status, img, h("div", { class: "row" }, dl));
  d.classList.add("viewer");
  let url = null, closed = false;
  d.addEventListener("close", () => {
    closed = true;
    if (url) URL.revokeObjectURL(url);
    if (from && from.isConnected) from.focus();
  });
  files.blobUrl(`/attachments/${a.id}`).then((u) => {
    if (closed) { URL.revokeObjectURL(u); return; }
    url = u; img.src = u; img.hidden = false; status.textContent = ""; status.hidden = true;
  }, (e) => { status.textContent = `Could not load the image: ${api.explain(e)}`; });
}

// Thumbnails load as they come near the visible part of `scroller`; those whose message left
// `list` are let go (a second after the last change, so a redrawn message keeps its own).
export function watch(scroller, list) {
  lazy = new IntersectionObserver((entries) => {
    for (const e of entries) if (e.isIntersecting) { lazy.unobserve(e.target); load(e.target); }
  }, { root: scroller, rootMargin: "300px 0px" });
  let timer = null;
  new MutationObserver((changes) => {
    for (const c of changes) for (const n of c.removedNodes) if (n.querySelectorAll) n.querySelectorAll("img[data-testid=attachment-thumbnail]").forEach((i) => lazy.unobserve(i));
    clearTimeout(timer);
    timer = setTimeout(() => {
      const ids = new Set([...document.querySelectorAll("[data-attachment-id]")].map((e) => e.dataset.attachmentId));
      files.keepOnly(ids);
    }, 1000);
  }).observe(list, { childList: true });
}

// ---- in the composer ----------------------------------------------------------------------

// The paperclip button, its (hidden) file input and the tray of chips, for the composer.
export function composerParts() {
  // A new sign-in: the last user's files are not this one's.
  for (const list of trays.values()) list.forEach(files.cancel);
  trays.clear();
  const input = h("input", { type: "file", multiple: true, hidden: true, name: "files", "data-testid": "attach-input", "aria-label": "Files to attach" });
  input.addEventListener("change", () => { add(S.current, [...input.files]); input.value = ""; });
  const button = h("button", { type: "button", class: "icon-btn attach", "data-testid": "attach-button", "aria-label": "Attach files", title: "Attach files (or drop them here)", onclick: () => input.click() }, icon(CLIP));
  note = h("p", { class: "hint", role: "status" });
  tray = h("ul", { class: "uploads", "data-testid": "uploads", "aria-label": "Files to send", hidden: true });
  return { input, button, tray: h("div", { class: "tray" }, tray, note) };
}

// Starts uploading `list` to group `gid` (at most MAX_FILES waiting per message).
export function add(gid, list) {
  if (!gid || !list.length) return;
  const mine = trays.get(gid) || [];
  const room = files.MAX_FILES - mine.filter((u) => u.state !== "failed").length;
  const taken = list.slice(0, Math.max(0, room));
  note.textContent = taken.length < list.length ? `At most ${files.MAX_FILES} files per message: ${list.length - taken.length} not added.` : "";
  for (const f of taken) mine.push(files.upload(gid, f));
  trays.set(gid, mine);
  if (taken.length) announce(taken.length === 1 ? `Uploading ${taken[0].name}` : `Uploading ${taken.length} files`);
  draw();
}

// The uploads of `gid` to send with the next message (refused ones stay, for their error).
export function take(gid) {
  const mine = trays.get(gid) || [];
  const out = mine.filter((u) => u.state !== "failed");
  trays.set(gid, mine.filter((u) => u.state === "failed"));
  note.textContent = "";
  draw();
  return out;
}

export const waiting = (gid) => (trays.get(gid) || []).some((u) => u.state !== "failed");

function remove(u) {
  files.cancel(u);
  const mine = trays.get(u.group_id) || [];
  trays.set(u.group_id, mine.filter((x) => x !== u));
  draw();
  const c = document.getElementById("composer-body");
  if (c) c.focus();
}

export function draw() {
  if (!tray) return;
  const mine = trays.get(S.current) || [];
  tray.replaceChildren(...mine.map((u) => chip(u, true)));
  tray.hidden = !mine.length;
}

// One file on its way: name, size, progress, its refusal, and (in the composer) a remove button.
function chip(u, removable) {
  return h("li", { class: "chip", "data-testid": "upload", "data-state": u.state, "data-upload-key": u.key },
    h("span", { class: "chip-name" }, u.name),
    h("span", { class: "chip-size" }, files.size(u.size)),
    u.state === "uploading" ? h("progress", { max: u.size || 1, value: u.loaded, "aria-label": `Uploading ${u.name}`, "data-testid": "upload-progress" }) : null,
    u.state === "done" ? h("span", { class: "chip-ok" }, "uploaded") : null,
    removable ? h("button", { type: "button", class: "icon-btn", "data-testid": "upload-remove", "aria-label": `Remove ${u.name}`, onclick: () => remove(u) }, "×") : null,
    u.error ? h("span", { class: "error", "data-testid": "upload-error" }, u.error) : null);
}

// The files of a message still being sent (in its echo).
export function sending(uploads) {
  if (!uploads || !uploads.length) return null;
  return h("ul", { class: "uploads", "data-testid": "attachments", "aria-label": "Attachments" }, uploads.map((u) => chip(u, false)));
}

on("upload", (u) => {
  const els = document.querySelectorAll(`[data-upload-key="${u.key}"]`);
  for (const el of els) {
    if (el.dataset.state === u.state) { const p = el.querySelector("progress"); if (p) p.value = u.loaded; continue; }
    el.replaceWith(chip(u, !!el.querySelector("[data-testid=upload-remove]")));
  }
  if (u.state === "done") announce(`${u.name} uploaded`);
  else if (u.state === "failed" && !u.cancelled) announce(`${u.name} was not uploaded: ${u.error}`);
});

// Files dragged over `zone` show `target`; dropped, they join the open conversation's message.
// Pasted images (from the clipboard) too.
export function dropZone(zone, target, canAttach, textarea) {
  let depth = 0;
  const hasFiles = (e) => !!(e.dataTransfer && [...e.dataTransfer.types].includes("Files"));
  zone.addEventListener("dragenter", (e) => { if (!hasFiles(e) || !canAttach()) return; e.preventDefault(); depth++; target.hidden = false; });
  zone.addEventListener("dragover", (e) => { if (!hasFiles(e) || !canAttach()) return; e.preventDefault(); e.dataTransfer.dropEffect = "copy"; });
  zone.addEventListener("dragleave", (e) => { if (!hasFiles(e)) return; depth = Math.max(0, depth - 1); if (!depth) target.hidden = true; });
  zone.addEventListener("drop", (e) => {
    depth = 0; target.hidden = true;
    if (!hasFiles(e) || !canAttach()) return;
    e.preventDefault();
    add(S.current, [...e.dataTransfer.files]);
  });
  // A file dropped next to the zone must not make the browser leave the chat to show it.
  for (const t of ["dragover", "drop"]) window.addEventListener(t, (e) => { if (hasFiles(e)) e.preventDefault(); });
  textarea.addEventListener("paste", (e) => {
    const list = e.clipboardData ? [...e.clipboardData.files] : [];
    if (!list.length || !canAttach()) return;
    e.preventDefault();
    add(S.current, list);
  });
}

// ---- icons (built as elements: nothing is parsed from a string) ----------------------------

const CLIP = "M21 11.5 12.6 19.9a5.5 5.5 0 0 1-7.8-7.8l8.5-8.5a3.7 3.7 0 0 1 5.2 5.2l-8.5 8.5a1.8 1.8 0 0 1-2.6-2.6l7.8-7.8";
const FILE = "M14 3H6.5A1.5 1.5 0 0 0 5 4.5v15A1.5 1.5 0 0 0 6.5 21h11a1.5 1.5 0 0 0 1.5-1.5V8zM14 3v5h5";

function icon(d) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", "ico");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", d);
  svg.append(path);
  return svg;
}
