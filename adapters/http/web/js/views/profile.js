// views/profile.js — the profile dialog: display name, country, two-factor login on/off,
// changing the email address with the code sent to the new one, and the people I block (with
// Unblock: views/moderation.js). It must never send a field the user did not change (PATCH
// keeps absent fields), and never keep a code after it was used.
import { h, dialog, field } from "../dom.js";
import { S, emit } from "../state.js";
import * as api from "../api.js";
import * as names from "../names.js";
import { blockedSection } from "./moderation.js";

const CODES = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW".split(" ");

function countries() {
  let dn = null;
  try { dn = new Intl.DisplayNames(undefined, { type: "region" }); } catch { dn = null; }
  return h("datalist", { id: "countries" }, ...CODES.map((c) => h("option", { value: c }, dn ? dn.of(c) : c)));
}

function adopt(me) { S.me = me; names.put(me); api.setUser(me); emit("me"); emit("groups"); }

export async function openProfile() {
  let me = S.me;
  try { me = await api.get("/users/me"); adopt(me); } catch { /* show what we have */ }
  const msg = h("p", { class: "note", role: "status" });
  const err = h("p", { class: "error", role: "alert" });
  const pf = h("form", { "data-testid": "profile-form" },
    field("Display name", h("input", { name: "display_name", maxlength: 64, autocomplete: "name", value: me.display_name || "" })),
    field("Country (two-letter code)", h("input", { name: "country", maxlength: 2, list: "countries", autocomplete: "country", value: me.country || "" }), "Used for “same country” in Talk to a stranger."),
    countries(),
    h("div", { class: "check" }, h("input", { type: "checkbox", name: "two_factor", id: "two-factor", checked: !!me.two_factor }),
      h("label", { for: "two-factor" }, "Two-factor login: ask for a code sent by email")),
    h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Save profile")));
  pf.addEventListener("submit", async (e) => {
    e.preventDefault(); err.textContent = ""; msg.textContent = "";
    const body = {};
    const dn = pf.display_name.value.trim(), ct = pf.country.value.trim().toUpperCase();
    if (dn !== (S.me.display_name || "")) body.display_name = dn || null;
    if (ct !== (S.me.country || "")) body.country = ct || null;
    if (pf.two_factor.checked !== !!S.me.two_factor) body.two_factor = pf.two_factor.checked;
    try { adopt(await api.patch("/users/me", body)); msg.textContent = "Saved."; }
    catch (ex) { err.textContent = ex.field === "two_factor" ? "Two-factor login needs an email address on the account." : api.explain(ex); pf.two_factor.checked = !!S.me.two_factor; }
  });

  const codeSlot = h("div");
  const ef = h("form", { "data-testid": "email-form" },
    field("Email", h("input", { name: "email", type: "email", autocomplete: "email", value: me.email || "" })),
    codeSlot,
    h("div", { class: "row" }, h("button", { type: "submit" }, "Change email")));
  ef.addEventListener("submit", async (e) => {
    e.preventDefault(); err.textContent = ""; msg.textContent = "";
    const email = ef.email.value.trim();
    try {
      if (!email) { adopt(await api.patch("/users/me", { email: null })); msg.textContent = "Email removed."; return; }
      if (email === (S.me.email || "")) { msg.textContent = "That is already your email."; return; }
      if (!ef.otp) {
        await api.post("/auth/otp", { purpose: "email_change", email });
        codeSlot.replaceChildren(field("Code sent to the new address", h("input", { name: "otp", inputmode: "numeric", autocomplete: "one-time-code", maxlength: 8, required: true })));
        msg.textContent = `We sent a code to ${email}.`;
        ef.otp.focus();
        return;
      }
      adopt(await api.patch("/users/me", { email, otp: ef.otp.value.trim() }));
      codeSlot.replaceChildren();
      msg.textContent = "Email changed.";
    } catch (ex) { err.textContent = ex.field === "otp" ? "That code is wrong or expired." : ex.code === "conflict" ? "That email is already used." : api.explain(ex); }
  });

  dialog("Your profile", "profile", h("p", { class: "note" }, "Signed in as @" + me.username), pf, h("hr"), ef, err, msg, h("hr"), blockedSection());
}
