// api.js — HTTP to /api/v1 and the session's tokens: keeps them (localStorage, so a reload keeps
// the session), refreshes the access token silently before it expires, and tells listeners —
// also why a session ended when the server ended it (a ban: 403 `banned`, or the socket's 4003).
// It must never refresh twice at once (refresh tokens are single use: a second use revokes the
// whole login), across tabs too, and never render anything.

const BASE = "/api/v1";
const KEY = "confab.session";
// Why the last session ended, when the server ended it ({reason, at}): another tab that sees the
// session go (a `storage` event) says the same thing.
const ENDED = "confab.ended";
let session = null; // {access, refresh, expiresAt, user}
let refreshing = null;
let timer = null;
const listeners = { tokens: new Set(), logout: new Set() };

export class ApiError extends Error {
  constructor(status, code, message, field, retryAfter) {
    super(message || code || `HTTP ${status}`);
    Object.assign(this, { status, code, field, retryAfter });
  }
}

export const on = (what, fn) => listeners[what].add(fn);
export const accessToken = () => session && session.access;
export const currentUser = () => session && session.user;
export const hasSession = () => !!session;

function save() {
  if (session) localStorage.setItem(KEY, JSON.stringify(session)); else localStorage.removeItem(KEY);
}

export function restore() {
  try { session = JSON.parse(localStorage.getItem(KEY) || "null"); } catch { session = null; }
  if (session && !session.refresh) session = null;
  if (session) schedule();
  return !!session;
}

// Another tab refreshed or logged out: adopt its tokens instead of spending ours.
window.addEventListener("storage", (e) => {
  if (e.key !== KEY) return;
  let next = null;
  try { next = JSON.parse(e.newValue || "null"); } catch { next = null; }
  if (!next) { if (session) { session = null; clearTimeout(timer); emit("logout", recentEnd()); } return; }
  if (session && next.refresh !== session.refresh) { session = next; schedule(); emit("tokens"); }
});

// `logout` listeners get the reason the server ended the session ("banned"), or null.
function emit(what, reason = null) { for (const fn of listeners[what]) { try { fn(what === "logout" ? reason : session); } catch (e) { console.error(e); } } }

function recentEnd() {
  try {
    const e = JSON.parse(localStorage.getItem(ENDED) || "null");
    return e && Date.now() - e.at < 30000 ? e.reason : null;
  } catch { return null; }
}

export function setSession({ user, tokens }) {
  session = {
    access: tokens.access_token,
    refresh: tokens.refresh_token,
    expiresAt: Date.now() + tokens.expires_in * 1000,
    ttl: tokens.expires_in,
    user: user || (session && session.user),
  };
  localStorage.removeItem(ENDED);
  save();
  schedule();
  emit("tokens");
}

export function setUser(user) { if (session) { session.user = user; save(); } }

function schedule() {
  clearTimeout(timer);
  if (!session) return;
  // Three quarters of the lifetime leaves room for a slow network and throttled timers.
  const ttl = (session.ttl || 900) * 1000;
  const due = session.expiresAt - ttl / 4 - Date.now();
  timer = setTimeout(() => refresh().catch(() => {}), Math.max(1000, due));
}

async function doRefresh() {
  const mine = session && session.refresh;
  if (!mine) throw new ApiError(401, "unauthorized", "Signed out");
  // Re-read under the lock: another tab may have refreshed already.
  let stored = null;
  try { stored = JSON.parse(localStorage.getItem(KEY) || "null"); } catch { stored = null; }
  if (stored && stored.refresh && stored.refresh !== mine && stored.expiresAt - Date.now() > 2000) {
    session = stored; schedule(); emit("tokens"); return;
  }
  let res;
  try {
    res = await fetch(BASE + "/auth/refresh", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: mine }),
    });
  } catch (e) {
    // Offline: keep the tokens and try again soon.
    clearTimeout(timer); timer = setTimeout(() => refresh().catch(() => {}), 5000);
    throw new ApiError(0, "network", "The server cannot be reached");
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = errorOf(res, data);
    if (res.status === 401 || res.status === 403) { dropSession(err.code === "banned" ? "banned" : null); }
    else { clearTimeout(timer); timer = setTimeout(() => refresh().catch(() => {}), 5000); }
    throw err;
  }
  setSession(data);
}

// One refresh at a time, in this tab (the shared promise) and across tabs (a Web Lock).
export function refresh() {
  if (!refreshing) {
    const run = navigator.locks ? navigator.locks.request("confab-refresh", doRefresh) : doRefresh();
    refreshing = run.finally(() => { refreshing = null; });
  }
  return refreshing;
}

function dropSession(reason = null) {
  const had = !!session;
  if (reason) localStorage.setItem(ENDED, JSON.stringify({ reason, at: Date.now() }));
  else localStorage.removeItem(ENDED);
  session = null; clearTimeout(timer); save();
  if (had) emit("logout", reason);
}

// The server ended this account's session (a ban: 403 `banned`, or the socket closed with
// 4003): every token of it is dead already, so nothing is sent; listeners are told why.
export function ended(reason) { dropSession(reason); }

export function errorOf(res, data) {
  const e = data && data.error;
  const retry = Number(res.headers.get("Retry-After")) || undefined;
  return new ApiError(res.status, e ? e.code : "http_" + res.status, e ? e.message : res.statusText, e && e.field, retry);
}

export async function request(method, path, body, opts = {}) {
  const auth = opts.auth !== false;
  if (auth && session && session.expiresAt - Date.now() < 2000) await refresh().catch(() => {});
  const headers = {};
  if (auth && session) headers.Authorization = "Bearer " + session.access;
  const init = { method, headers };
  if (body !== undefined) { headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  let res;
  try { res = await fetch(BASE + path, init); } catch { throw new ApiError(0, "network", "The server cannot be reached"); }
  if (res.status === 401 && auth && session && !opts.retried) {
    await refresh();
    return request(method, path, body, { ...opts, retried: true });
  }
  const text = res.status === 204 ? "" : await res.text().catch(() => "");
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const err = errorOf(res, data);
    if (err.code === "banned" && auth) dropSession("banned");
    throw err;
  }
  return data;
}

// The raw answer of an authenticated GET (an attachment's bytes), after one refresh on a 401.
export async function raw(path, retried = false) {
  const token = await validToken().catch(() => accessToken());
  let res;
  try { res = await fetch(BASE + path, { headers: token ? { Authorization: "Bearer " + token } : {} }); }
  catch { throw new ApiError(0, "network", "The server cannot be reached"); }
  if (res.status === 401 && session && !retried) { await refresh(); return raw(path, true); }
  if (!res.ok) {
    const err = errorOf(res, await res.json().catch(() => null));
    if (err.code === "banned") dropSession("banned");
    throw err;
  }
  return res;
}

// An access token with some life left (refreshing first when it has little).
export async function validToken() {
  if (session && session.expiresAt - Date.now() < Math.min(5000, (session.ttl || 900) * 250)) await refresh();
  return session && session.access;
}

export const get = (p) => request("GET", p);
export const post = (p, b, o) => request("POST", p, b === undefined ? {} : b, o);
export const patch = (p, b) => request("PATCH", p, b);
export const put = (p, b) => request("PUT", p, b);
export const del = (p) => request("DELETE", p);

export async function logout() {
  const rt = session && session.refresh;
  dropSession();
  if (rt) await fetch(BASE + "/auth/logout", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ refresh_token: rt }) }).catch(() => {});
}

export const BANNED = "This account has been banned.";

// Human text for an error, for auth forms and toasts.
export function explain(e) {
  if (!(e instanceof ApiError)) return String(e && e.message || e);
  if (e.code === "rate_limited") return `Too many attempts. Try again${e.retryAfter ? ` in ${e.retryAfter} s` : " later"}.`;
  if (e.code === "invalid_credentials") return "Wrong username, password or code.";
  if (e.code === "network") return "The server cannot be reached. Check your connection.";
  if (e.code === "banned") return BANNED;
  return e.message;
}
