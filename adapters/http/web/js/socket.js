// socket.js — the one WebSocket of the session: connects with the access token, answers
// commands' acks by ref, reconnects with exponential backoff and jitter, renews itself with
// `auth` after each token refresh, and reports its state ("connected" / "reconnecting"); a
// close with 4003 (banned) ends the session instead of reconnecting.
// It must never open a second socket, never drop a frame it was given without rejecting the
// caller's promise, and never decide what the frames mean (chat.js does).
import * as api from "./api.js";

let ws = null;
let wanted = false;
let attempt = 0;
let retryTimer = null;
let pingTimer = null;
let lastHeard = 0;
let nextRef = 1;
const waiting = new Map(); // ref -> {resolve, reject, timer}
let handlers = { frame: () => {}, ready: () => {}, state: () => {} };
let state = "reconnecting";

export const isOpen = () => ws && ws.readyState === WebSocket.OPEN && state === "connected";
export const getState = () => state;

function setState(s) { if (s !== state) { state = s; handlers.state(s); } }

export function start(h) {
  handlers = { ...handlers, ...h };
  wanted = true;
  connect();
}

export function stop() {
  wanted = false;
  clearTimeout(retryTimer); clearInterval(pingTimer);
  if (ws) { const w = ws; ws = null; w.close(1000); }
  failAll("signed out");
}

let opening = false;
function connect() {
  clearTimeout(retryTimer);
  if (!wanted || ws || opening) return;
  opening = true;
  // An expired token fails the upgrade with a bare 401 the browser hides: refresh first. After
  // a few failures in a row, refresh anyway in case the token was revoked.
  const renew = attempt >= 3 && attempt % 3 === 0 ? api.refresh().then(api.accessToken) : api.validToken();
  renew.then((token) => { opening = false; if (token) open(token); }, () => { opening = false; later(backoff()); });
}

function open(token) {
  if (!wanted || ws) return;
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/v1/ws?token=" + encodeURIComponent(token);
  const sock = new WebSocket(url);
  ws = sock;
  sock.onmessage = (ev) => {
    lastHeard = Date.now();
    let f;
    try { f = JSON.parse(ev.data); } catch { return; }
    if (f.type === "ready") {
      attempt = 0;
      setState("connected");
      handlers.ready(f);
      return;
    }
    if ((f.type === "ack" || f.type === "error" || f.type === "synced" || f.type === "pong") && f.ref != null && waiting.has(f.ref)) {
      const w = waiting.get(f.ref);
      waiting.delete(f.ref); clearTimeout(w.timer);
      if (f.type === "error") w.reject(Object.assign(new api.ApiError(0, f.code, f.message, f.field), { ws: true }));
      else w.resolve(f);
      return;
    }
    handlers.frame(f);
  };
  sock.onopen = () => {
    lastHeard = Date.now();
    clearInterval(pingTimer);
    // The browser hides pings: our own ping notices a half-open connection (e.g. after sleep).
    pingTimer = setInterval(() => {
      if (Date.now() - lastHeard > 60000) { sock.close(4000, "silent"); return; }
      if (Date.now() - lastHeard > 25000) send({ type: "ping" });
    }, 10000);
  };
  sock.onclose = (ev) => {
    if (ws !== sock) return;
    ws = null;
    clearInterval(pingTimer);
    failAll("disconnected");
    if (!wanted) return;
    // Banned: every token is gone and coming back would only be refused. Signed out, no retry.
    if (ev.code === 4003) { wanted = false; clearTimeout(retryTimer); api.ended("banned"); return; }
    setState("reconnecting");
    if (ev.code === 4001) {
      // The token ran out: refresh first, then come straight back.
      api.refresh().then(() => later(0), () => later(backoff()));
      return;
    }
    later(backoff());
  };
}

function backoff() {
  // Exponential, capped at 30 s, with full jitter so a restarted server is not hit by everyone at once.
  const cap = Math.min(30000, 500 * 2 ** attempt);
  attempt = Math.min(attempt + 1, 10);
  return cap / 2 + Math.random() * cap / 2;
}

function later(ms) {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(connect, ms);
}

// Come back at once when the network does.
window.addEventListener("online", () => { if (wanted && !ws) { attempt = 0; later(0); } });

function failAll(why) {
  for (const [, w] of waiting) { clearTimeout(w.timer); w.reject(Object.assign(new api.ApiError(0, "network", why), { lost: true })); }
  waiting.clear();
}

export function send(frame) {
  if (!ws || ws.readyState !== WebSocket.OPEN) return false;
  ws.send(JSON.stringify(frame));
  return true;
}

// A command with a ref; resolves with its ack (or synced), rejects with its error frame or
// when the socket goes away before the answer.
export function request(frame, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    if (!isOpen()) { reject(Object.assign(new api.ApiError(0, "network", "not connected"), { lost: true })); return; }
    const ref = "r" + nextRef++;
    const timer = setTimeout(() => {
      waiting.delete(ref);
      reject(Object.assign(new api.ApiError(0, "network", "no answer"), { lost: true }));
      // An unanswered command means the socket is likely dead: start over.
      if (ws) ws.close(4000, "timeout");
    }, timeoutMs);
    waiting.set(ref, { resolve, reject, timer });
    ws.send(JSON.stringify({ ...frame, ref }));
  });
}

// After a refresh the socket keeps living on the new token.
api.on("tokens", (s) => {
  if (!s || !isOpen()) { if (wanted && !ws) later(0); return; }
  request({ type: "auth", token: s.access }).catch(() => {});
});
