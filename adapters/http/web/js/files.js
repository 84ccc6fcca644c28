// files.js — attachments over HTTP: uploads with progress (XMLHttpRequest, since fetch reports
// no upload progress), and downloads made with the access token into blob: URLs (an <img> cannot
// send a Bearer header). It must never render anything, never load a full file or image before
// the user asks for it, and never keep a thumbnail's blob: URL once no element shows it
// (`keepOnly`).
import * as api from "./api.js";
import { emit } from "./state.js";

export const MAX_FILES = 10; // per message (API.md)
const RASTER = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);

// Only these have a thumbnail and are shown inline; SVG is not one (it can carry script).
export const isImage = (a) => RASTER.has(a.content_type);

export function size(n) {
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = n / 1024, i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

// ---- uploads ------------------------------------------------------------------------------

let nextKey = 1;

// Starts uploading `file` to group `gid`. The upload is {key, group_id, file, name, size,
// loaded, state: "uploading"|"done"|"failed", error, attachment, promise}; "upload" is emitted
// (with it) on progress and on each change of state.
export function upload(gid, file) {
  const u = { key: "u" + nextKey++, group_id: gid, file, name: file.name || "file", size: file.size, loaded: 0, state: "uploading", error: null, attachment: null, xhr: null };
  u.promise = run(u);
  u.promise.catch(() => {}); // a failure is shown on the upload; nobody need await it
  return u;
}

// The same file again, after a failure (a retried send); a good upload is kept.
export const again = (u) => (u.state === "failed" ? upload(u.group_id, u.file) : u);

export function cancel(u) {
  if (u.state !== "uploading") return;
  u.cancelled = true;
  if (u.xhr) u.xhr.abort();
}

async function run(u) {
  try {
    let r = await post(u, await api.validToken().catch(() => api.accessToken()));
    if (r.status === 401 && !u.cancelled) { await api.refresh(); u.loaded = 0; r = await post(u, api.accessToken()); }
    let data = null;
    try { data = r.text ? JSON.parse(r.text) : null; } catch { data = null; }
    if (r.status !== 201 || !data) throw api.errorOf({ status: r.status, statusText: "", headers: { get: r.header } }, data);
    Object.assign(u, { state: "done", attachment: data, loaded: u.size });
    emit("upload", u);
    return data;
  } catch (e) {
    Object.assign(u, { state: "failed", error: u.cancelled ? "Cancelled" : reason(e) });
    emit("upload", u);
    throw e;
  }
}

function post(u, token) {
  return new Promise((resolve, reject) => {
    if (u.cancelled) { reject(new api.ApiError(0, "cancelled", "Cancelled")); return; }
    const x = new XMLHttpRequest();
    u.xhr = x;
    x.open("POST", `/api/v1/groups/${encodeURIComponent(u.group_id)}/attachments?name=${encodeURIComponent(u.name)}`);
    if (token) x.setRequestHeader("Authorization", "Bearer " + token);
    x.setRequestHeader("Content-Type", u.file.type || "application/octet-stream");
    x.upload.onprogress = (e) => { if (e.lengthComputable) { u.loaded = e.loaded; emit("upload", u); } };
    x.onload = () => resolve({ status: x.status, text: x.responseText, header: (n) => x.getResponseHeader(n) });
    x.onerror = () => reject(new api.ApiError(0, "network", "The upload was cut off"));
    x.onabort = () => reject(new api.ApiError(0, "cancelled", "Cancelled"));
    x.send(u.file);
  });
}

// The words for a refused upload (API.md, "Attachments…").
function reason(e) {
  if (!(e instanceof api.ApiError)) return api.explain(e);
  switch (e.code) {
    case "payload_too_large": return "Too large for this server" + (e.message && e.message !== e.code ? ` (${e.message})` : "");
    case "quota_exceeded": return "Your storage on this server is full";
    case "not_found": case "gone": return "This conversation can no longer take files";
    case "network": return "The upload was cut off — the file may be too large, or the connection dropped";
    default: return api.explain(e);
  }
}

// ---- downloads ----------------------------------------------------------------------------

// A blob: URL of an attachment's bytes (or thumbnail); the caller revokes it.
export async function blobUrl(path) {
  const res = await api.raw(path);
  return URL.createObjectURL(await res.blob());
}

const thumbs = new Map(); // attachment id -> {promise, url}

// The thumbnail's blob: URL, fetched once while an element shows it.
export function thumbnail(a) {
  let t = thumbs.get(a.id);
  if (!t) {
    t = { url: null };
    t.promise = blobUrl(`/attachments/${a.id}/thumbnail`).then((url) => {
      if (thumbs.get(a.id) === t) t.url = url; else URL.revokeObjectURL(url);
      return url;
    });
    t.promise.catch(() => { if (thumbs.get(a.id) === t) thumbs.delete(a.id); });
    thumbs.set(a.id, t);
  }
  return t;
}

// Lets go of the thumbnails of every attachment not in `ids` (those no longer on the page).
export function keepOnly(ids) {
  for (const [id, t] of thumbs) {
    if (ids.has(id)) continue;
    thumbs.delete(id);
    if (t.url) URL.revokeObjectURL(t.url);
  }
}
