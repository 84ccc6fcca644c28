// views/auth.js — the signed-out screens: log in (with the one-time code step for two-factor
// accounts), register (with the email code step when the server verifies emails, and an invite
// code field when the server takes accounts by invite or the link carries `?invite=`), and reset a
// password by code; the login screen says why the server ended the last session (a ban). It must
// never keep a password after the request, and never say whether an account exists beyond what
// the server's answers say.
import { h, field } from "../dom.js";
import * as api from "../api.js";

let onSignedIn = () => {};
let root = null;
// An invitation link (`/?invite=CODE`): read when the module loads, before the page's address
// is tidied; it opens the sign-up form with the code filled in.
const fromLink = new URLSearchParams(location.search).get("invite");

// `error`: what to say on the login screen (why the session ended), or null.
export function mount(el, signedIn, error = null) {
  root = el; onSignedIn = signedIn;
  if (fromLink && !error) return show("register");
  show("login", error ? { error } : {});
}

function errorBox() { return h("p", { class: "error", role: "alert", "data-testid": "auth-error" }); }
function note(text) { return h("p", { class: "note", role: "status" }, text || ""); }
function input(name, type, attrs = {}) { return h("input", { name, type, ...attrs }); }
function codeInput() { return input("otp", "text", { inputmode: "numeric", autocomplete: "one-time-code", pattern: "\\s*[0-9]{6}\\s*", maxlength: 8, required: true }); }

function switcher(current) {
  const b = (id, label) => h("button", { type: "button", class: "link", "data-testid": "show-" + id, onclick: () => show(id) }, label);
  return h("nav", { class: "auth-switch", "aria-label": "Account" },
    current !== "login" ? b("login", "I have an account: log in") : null,
    current !== "register" ? b("register", "Create an account") : null,
    current !== "reset" ? b("reset", "Forgot password?") : null);
}

function card(title, form, current) {
  root.replaceChildren(h("main", { class: "auth" },
    h("div", { class: "auth-card" },
      h("h1", { class: "brand" }, h("img", { src: "/assets/icon.svg", alt: "", width: 32, height: 32 }), "confab"),
      h("h2", null, title), form, switcher(current))));
  const first = form.querySelector("input");
  if (first) first.focus();
}

function busy(form, on) { for (const b of form.querySelectorAll("button")) b.disabled = on; form.setAttribute("aria-busy", on ? "true" : "false"); }

export function show(which, prefill = {}) {
  if (which === "register") return register();
  if (which === "reset") return reset(prefill);
  return login(prefill);
}

function login(prefill = {}) {
  const err = errorBox(), info = note(prefill.note);
  if (prefill.error) err.textContent = prefill.error;
  const codeSlot = h("div");
  const form = h("form", { "data-testid": "login-form", novalidate: false },
    field("Username or email", input("login", "text", { autocomplete: "username", required: true, value: prefill.login || "" })),
    field("Password", input("password", "password", { autocomplete: "current-password", required: true })),
    codeSlot, err, info,
    h("button", { type: "submit", class: "primary" }, "Log in"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    err.textContent = "";
    const body = { login: form.login.value.trim(), password: form.password.value };
    if (form.otp) body.otp = form.otp.value.trim();
    busy(form, true);
    try {
      const r = await api.post("/auth/login", body, { auth: false });
      api.setSession(r);
      onSignedIn();
    } catch (ex) {
      if (ex.code === "otp_required" && !form.otp) {
        const resend = h("button", { type: "button", class: "link", onclick: async () => {
          await api.post("/auth/otp", { purpose: "login", login: body.login }, { auth: false }).catch(() => {});
          info.textContent = "A new code is on its way.";
        } }, "Send a new code");
        codeSlot.replaceChildren(field("Code from your email", codeInput(), "Six digits, valid for 10 minutes."), resend);
        info.textContent = "This account uses two-factor login: we sent a code to its email address.";
        form.otp.focus();
      } else {
        err.textContent = ex.code === "otp_required" ? "Enter the code from your email." : api.explain(ex);
        // The automatic log-in after a reset failed: hand over an empty form to type into.
        if (prefill.password && !form.otp) { prefill.password = null; form.password.value = ""; form.password.focus(); }
      }
    } finally { busy(form, false); }
  });
  card("Log in", form, "login");
  if (prefill.password) { form.password.value = prefill.password; form.requestSubmit(); }
}

function inviteInput(value) { return input("invite", "text", { autocomplete: "off", required: true, minlength: 8, maxlength: 64, pattern: "\\s*[A-Za-z0-9_\\-]{8,64}\\s*", value: value || "" }); }

function register() {
  const err = errorBox(), info = note();
  const codeSlot = h("div"), inviteSlot = h("div");
  const askInvite = () => {
    if (!form.invite) inviteSlot.replaceChildren(field("Invite code", inviteInput(fromLink), "From an admin of this server."));
    form.invite.focus();
  };
  const form = h("form", { "data-testid": "register-form" },
    field("Username", input("username", "text", { autocomplete: "username", required: true, minlength: 3, maxlength: 32, pattern: "[A-Za-z0-9_.\\-]{3,32}" }), "3–32 letters, digits, dot, dash or underscore."),
    field("Password", input("password", "password", { autocomplete: "new-password", required: true, minlength: 8 }), "At least 8 characters."),
    field("Email (optional unless this server asks for it)", input("email", "email", { autocomplete: "email" })),
    field("Display name (optional)", input("display_name", "text", { autocomplete: "name", maxlength: 64 })),
    inviteSlot, codeSlot, err, info,
    h("button", { type: "submit", class: "primary" }, "Create account"));
  if (fromLink) inviteSlot.replaceChildren(field("Invite code", inviteInput(fromLink), "From an admin of this server."));
  async function askCode(email) {
    await api.post("/auth/otp", { purpose: "register", email }, { auth: false });
    if (!form.otp) codeSlot.replaceChildren(field("Code from your email", codeInput(), "Six digits, sent to " + email + "."));
    info.textContent = "We sent a code to " + email + ". Enter it to finish.";
    form.otp.focus();
  }
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    err.textContent = "";
    const body = { username: form.username.value.trim(), password: form.password.value };
    const email = form.email.value.trim();
    if (email) body.email = email;
    const dn = form.display_name.value.trim();
    if (dn) body.display_name = dn;
    if (form.otp && form.otp.value.trim()) body.otp = form.otp.value.trim();
    if (form.invite && form.invite.value.trim()) body.invite = form.invite.value.trim();
    busy(form, true);
    try {
      const r = await api.post("/auth/register", body, { auth: false });
      api.setSession(r);
      onSignedIn();
    } catch (ex) {
      if (ex.code === "registration_closed") {
        err.textContent = "This server does not take new accounts: ask its admin for one.";
      } else if (ex.code === "invite_required") {
        err.textContent = "This server takes new accounts by invite: enter your invite code.";
        askInvite();
      } else if (ex.code === "invite_invalid" || ex.field === "invite") {
        err.textContent = "That invite code is unknown, expired or used up.";
        askInvite();
      } else if (ex.field === "otp" && !body.otp && email) {
        try { await askCode(email); } catch (e2) { err.textContent = api.explain(e2); }
      } else if (ex.field === "otp" && !email) {
        err.textContent = "This server needs a verified email address: enter yours.";
        form.email.required = true; form.email.focus();
      } else if (ex.field === "email" && !email) {
        err.textContent = "This server needs an email address: enter yours and we will send a code.";
        form.email.required = true; form.email.focus();
      } else if (ex.code === "conflict") {
        err.textContent = ex.field === "email" ? "That email is already used." : "That username is taken.";
      } else if (ex.field === "otp") {
        err.textContent = "That code is wrong or expired.";
        const again = h("button", { type: "button", class: "link", onclick: () => askCode(email).catch((e3) => { err.textContent = api.explain(e3); }) }, "Send a new code");
        if (!codeSlot.querySelector(".link")) codeSlot.append(again);
      } else {
        err.textContent = api.explain(ex);
      }
    } finally { busy(form, false); }
  });
  card("Create an account", form, "register");
}

function reset(prefill = {}) {
  const err = errorBox(), info = note();
  const step2 = h("div");
  const form = h("form", { "data-testid": "reset-form" },
    field("Username or email", input("login", "text", { autocomplete: "username", required: true, value: prefill.login || "" })),
    step2, err, info,
    h("button", { type: "submit", class: "primary" }, "Send me a code"));
  const submit = form.querySelector("button[type=submit]");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    err.textContent = "";
    const login = form.login.value.trim();
    busy(form, true);
    try {
      if (!form.otp) {
        await api.post("/auth/otp", { purpose: "password_reset", login }, { auth: false });
        step2.replaceChildren(
          field("Code from your email", codeInput()),
          field("New password", input("password", "password", { autocomplete: "new-password", required: true, minlength: 8 }), "At least 8 characters."));
        info.textContent = "If the account has an email address, a code is on its way.";
        submit.textContent = "Set new password";
        form.otp.focus();
      } else {
        const password = form.password.value;
        await api.post("/auth/password-reset", { login, otp: form.otp.value.trim(), password }, { auth: false });
        // Straight in with the new password, through the login form so that a two-factor
        // account gets its code step there.
        show("login", { login, password, note: "Password changed." });
      }
    } catch (ex) {
      err.textContent = ex.code === "invalid_credentials" ? "That code is wrong or expired." : api.explain(ex);
    } finally { busy(form, false); }
  });
  card("Reset your password", form, "reset");
}

