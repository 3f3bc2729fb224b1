// Security info (mysignins.microsoft.com/security-info), rendered on the
// client like the real React app. DOM anchors, stable in every locale:
//   button[name="Add method"]                       "Add sign-in method"
//   div[role=dialog]                                the add-method dialog
//   div[role=combobox][aria-label="Authentication method options"] -> div[role=listbox] > [role=option]
//   button.ms-Button--primary                       Add / Next / Done
//   button[name="USB device"], button[name="NFC device"]
//   input[id^=TextField]                            the key's name
//   #ms-banner                                      errors (key limit, two-factor, policy)
//   div[role=list]#methodsList > div[role=listitem][data-method-type]
// Variants ($SiConfig):
//   controls "aria": every button and option is a div[role=button|option]
//     with tabindex, no id, no class, no name; disabled is aria-disabled;
//     the combobox is labelled by a <label> (aria-labelledby); no ids on
//     the banner and the list either.
//   nameNextDisabled: the naming step's primary stays disabled while the
//     name box is empty.
//   passkeyFlow "passkey": the picker offers the passkey option (its label
//     from passkeyLabel) and "Passkey in Microsoft Authenticator", not
//     "Security key"; Add ▸ MFA notice ▸ Next ▸ fido/create ▸ a default
//     name to change ▸ Done.
//   An HTTP 5xx from authenticationmethods/new shows role=alert in the
//   dialog with Cancel and a primary "Try again".
(function () {
  "use strict";
  var cfg = window.$SiConfig || {};
  var S = window.$Strings || {};
  var root = document.getElementById("root");
  var sessionCtx = null;
  var legacy = cfg.protocol === "legacy";
  var aria = cfg.controls === "aria";
  var passkeyFlow = cfg.passkeyFlow === "passkey";
  var seq = 0;
  function genId() { seq += 1; return "id__" + Math.random().toString(36).slice(2, 6) + seq; }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "onclick") e.addEventListener("click", attrs[k]);
      else if (attrs[k] === true) e.setAttribute(k, "");
      else if (attrs[k] !== false && attrs[k] != null) e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function isDisabled(b) {
    return b.getAttribute("aria-disabled") === "true" || b.disabled === true;
  }
  function setDisabled(b, off) {
    if (b.tagName === "BUTTON") b.disabled = !!off;
    else if (off) b.setAttribute("aria-disabled", "true");
    else b.removeAttribute("aria-disabled");
  }
  // A div that behaves as a button: focusable, Enter and Space press it,
  // a click while aria-disabled does nothing.
  function ariaButton(label, opts) {
    var b = el("div", { role: "button", tabindex: "0", text: label });
    if (opts.disabled) b.setAttribute("aria-disabled", "true");
    b.addEventListener("click", function (e) {
      if (isDisabled(b)) { e.preventDefault(); e.stopImmediatePropagation(); return; }
      if (opts.onclick) opts.onclick(e);
    });
    b.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); b.click(); }
    });
    return b;
  }
  function button(label, opts) {
    opts = opts || {};
    if (aria) return ariaButton(label, opts);
    return el("button", {
      type: "button",
      "class": "ms-Button " + (opts.primary ? "ms-Button--primary" : "ms-Button--default") + (opts.extra ? " " + opts.extra : ""),
      name: opts.name || label,
      "aria-label": opts.aria || null,
      disabled: !!opts.disabled,
      onclick: opts.onclick
    }, [el("span", { "class": "ms-Button-label", text: label })]);
  }
  function stripPrefix(t) { return t.indexOf(")]}',") === 0 ? t.slice(t.indexOf("\n") + 1) : t; }
  function api(path, body) {
    var url = legacy && path.indexOf("/api/authenticationmethods/") === 0
      ? cfg.legacyApi + (path.endsWith("/new") ? "/AddSecurityInfo" : "/VerifySecurityInfo")
      : path;
    var headers = { "Content-Type": "application/json" };
    if (sessionCtx) { headers.SessionCtxV2 = sessionCtx; }
    return fetch(url, {
      method: body === undefined ? "GET" : "POST",
      headers: headers,
      credentials: legacy && url.indexOf("https://") === 0 ? "omit" : "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      return r.text().then(function (t) {
        var j = null;
        try { j = JSON.parse(stripPrefix(t)); } catch (e) { j = null; }
        if (!r.ok) { var err = new Error((j && j.error && j.error.message) || ("HTTP " + r.status)); err.status = r.status; throw err; }
        return j;
      });
    });
  }

  var banner = null;
  function showBanner(text) {
    banner.hidden = false;
    banner.textContent = "";
    banner.appendChild(el("div", { "class": "ms-MessageBar-text", text: text }));
  }
  function hideBanner() { banner.hidden = true; banner.textContent = ""; }

  var list = null;
  function renderMethods(methods) {
    list.textContent = "";
    if (!methods.length) { list.appendChild(el("div", { "class": "si-empty", text: S.no_methods })); return; }
    methods.forEach(function (m) {
      var label = m.Type === 18 ? (passkeyFlow ? (cfg.passkeyLabel || S.m_passkey) : S.m_security_key) : m.Type === 1 ? S.m_phone : m.Type === 6 ? S.m_authenticator : m.Type === 8 ? S.m_email : m.Kind;
      list.appendChild(el("div", { role: "listitem", "class": "si-method", "data-method-type": String(m.Type), "data-credential-id": m.CredentialId || null }, [
        el("span", { "class": "si-method-type", text: label }),
        el("span", { "class": "si-method-name", text: m.DisplayName || "" })
      ]));
    });
  }
  function loadMethods() {
    return api("/api/authenticationmethods").then(function (j) { renderMethods((j && j.Methods) || []); });
  }

  // ---- the dialog ----
  var dialog = null;
  function closeDialog() { if (dialog) { dialog.remove(); dialog = null; } }
  function openDialog(title, body, buttons) {
    closeDialog();
    var hid = aria ? genId() : "si-dialog-title";
    dialog = el("div", { "class": "ms-Layer si-overlay" }, [
      el("div", { role: "dialog", "aria-modal": "true", "aria-labelledby": hid, "class": "ms-Dialog-main" }, [
        el("div", { role: "heading", "aria-level": "2", id: hid, "class": "ms-Dialog-title", text: title }),
        el("div", { "class": "ms-Dialog-inner" }, body),
        el("div", { "class": "ms-Dialog-actions" }, buttons)
      ])
    ]);
    document.body.appendChild(dialog);
  }

  // The picker's options, by flow.
  function methodOptions() {
    if (passkeyFlow) {
      return [["passkey", cfg.passkeyLabel || S.m_passkey_preview], ["authenticatorPasskey", S.m_passkey_authenticator],
        ["authenticator", S.m_authenticator], ["phone", S.m_phone], ["email", S.m_email]];
    }
    return [["securityKey", S.m_security_key], ["phone", S.m_phone], ["email", S.m_email], ["authenticator", S.m_authenticator]];
  }

  function stepChooseMethod() {
    var chosen = null;
    var addBtn = button(S.add, { primary: true, name: "Add", disabled: true, onclick: function () {
      if (chosen === "securityKey") stepKeyType();
      else if (chosen === "passkey") stepPasskeyMfa();
      else if (chosen === "authenticatorPasskey") stepAuthenticatorPasskey();
      else { closeDialog(); showBanner(S.generic_error); }
    } });
    var current = el("span", { "class": aria ? null : "ms-Dropdown-title", text: S.choose_method });
    var listId = aria ? genId() : "si-method-listbox";
    var listbox = el("div", { role: "listbox", id: listId, "class": aria ? null : "ms-Dropdown-items", hidden: true });
    var label = null;
    var comboAttrs = {
      role: "combobox", tabindex: "0", "class": aria ? null : "ms-Dropdown",
      "aria-expanded": "false", "aria-haspopup": "listbox", "aria-controls": listId
    };
    if (aria) {
      label = el("label", { id: genId(), text: S.dlg_which });
      comboAttrs["aria-labelledby"] = label.id;
    } else {
      comboAttrs["aria-label"] = "Authentication method options";
    }
    var combo = el("div", comboAttrs, [current]);
    if (label) label.addEventListener("click", function () { combo.focus(); });
    function toggle() {
      var open = listbox.hidden;
      listbox.hidden = !open;
      combo.setAttribute("aria-expanded", open ? "true" : "false");
    }
    combo.addEventListener("click", toggle);
    combo.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " " || e.key === "ArrowDown") { e.preventDefault(); toggle(); } });
    methodOptions().forEach(function (o) {
      var opt = aria
        ? el("div", { role: "option", tabindex: "-1", "aria-selected": "false", text: o[1] })
        : el("button", { type: "button", role: "option", "class": "ms-Dropdown-item", "data-value": o[0], "aria-selected": "false", text: o[1] });
      function pick() {
        chosen = o[0];
        current.textContent = o[1];
        Array.prototype.forEach.call(listbox.children, function (c) { c.setAttribute("aria-selected", c === opt ? "true" : "false"); });
        listbox.hidden = true;
        combo.setAttribute("aria-expanded", "false");
        setDisabled(addBtn, false);
      }
      opt.addEventListener("click", pick);
      opt.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); pick(); } });
      listbox.appendChild(opt);
    });
    openDialog(S.dlg_title, [aria ? label : el("p", { text: S.dlg_which }), combo, listbox], [
      button(S.cancel, { name: "Cancel", onclick: closeDialog }), addBtn
    ]);
  }

  // Passkey flow: "sign in with MFA" notice, then Next starts the ceremony.
  function stepPasskeyMfa() {
    var next = button(S.next, { primary: true, name: "Next", onclick: function () {
      setDisabled(next, true);
      provisionWithRetry(cfg.passkeyLabel || S.m_passkey);
    } });
    openDialog(S.passkey_mfa_title, [el("p", { text: S.passkey_mfa_desc })], [
      button(S.cancel, { name: "Cancel", onclick: closeDialog }), next
    ]);
  }

  // "Passkey in Microsoft Authenticator": continues on a phone; it never
  // finishes here.
  function stepAuthenticatorPasskey() {
    openDialog(S.m_passkey_authenticator, [
      el("p", { text: S.auth_passkey_desc }),
      el("div", { role: "status", "class": aria ? null : "si-wait", text: S.auth_passkey_waiting })
    ], [button(S.cancel, { name: "Cancel", onclick: closeDialog })]);
    api("/api/authenticationmethods/new", { Type: 18, AuthenticatorPasskey: true }).catch(function () { /* still waiting */ });
  }

  function stepKeyType() {
    openDialog(S.m_security_key, [
      el("p", { text: S.sk_choose }),
      el("div", { "class": "si-choices" }, [
        button(S.usb, { name: "USB device", extra: "si-choice", onclick: stepReady }),
        button(S.nfc, { name: "NFC device", extra: "si-choice", onclick: stepReady })
      ])
    ], [button(S.cancel, { name: "Cancel", onclick: closeDialog })]);
  }

  // Starts the ceremony; a 5xx of authenticationmethods/new shows the
  // dialog's error with Cancel and "Try again" (which calls it again).
  function provisionWithRetry(title) {
    startProvisioning().catch(function (e) {
      if (e && e.status >= 500 && e.fromNew) {
        var retry = button(S.try_again, { primary: true, name: "Try again", onclick: function () {
          setDisabled(retry, true);
          provisionWithRetry(title);
        } });
        openDialog(title, [el("div", { role: "alert", "class": aria ? null : "ms-MessageBar ms-MessageBar--error", text: S.wizard_error })], [
          button(S.cancel, { name: "Cancel", onclick: closeDialog }), retry
        ]);
        return;
      }
      closeDialog(); showBanner(S.generic_error + (e && e.message ? " (" + e.message + ")" : ""));
    });
  }

  function stepReady() {
    var next = button(S.next, { primary: true, name: "Next", onclick: function () {
      setDisabled(next, true);
      provisionWithRetry(S.m_security_key);
    } });
    openDialog(S.m_security_key, [el("p", { text: S.sk_ready })], [
      button(S.back, { name: "Back", onclick: stepKeyType }), next
    ]);
  }

  function bannerFor(j) {
    if (j.ErrorCode === 21) return S.limit_reached;
    if (j.ErrorCode === 23) return S.two_factor;
    if (j.ErrorCode === 24) return S.policy_disabled;
    if (j.ErrorCode === 30) return S.reg_rejected;
    return j.ErrorMessage || S.reg_failed;
  }

  function startProvisioning() {
    return api("/api/authenticationmethods/new", { Type: legacy ? 12 : 18 }).catch(function (e) {
      if (e) e.fromNew = true;
      throw e;
    }).then(function (j) {
      if (!j || j.ErrorCode) { closeDialog(); showBanner(bannerFor(j || {})); return; }
      var data = JSON.parse(j.Data);
      var rd = data.requestData;
      var form = el("form", { method: "POST", action: data.provisionUrl + "?cid=" + encodeURIComponent(crypto.randomUUID ? crypto.randomUUID() : String(Date.now())), hidden: true });
      Object.keys(rd).forEach(function (k) { form.appendChild(el("input", { type: "hidden", name: k, value: rd[k] })); });
      document.body.appendChild(form);
      form.submit();
    });
  }

  // Naming the new key. Security key flow: an empty box and Next (then
  // Done); passkey flow: a default name to change and Done. With
  // nameNextDisabled the primary is disabled while the box is empty.
  function stepName(canary, ctx) {
    var title = passkeyFlow ? (cfg.passkeyLabel || S.m_passkey) : S.m_security_key;
    var input = el("input", { type: "text", id: "TextField" + Math.floor(Math.random() * 1000), "class": "ms-TextField-field", "aria-label": S.name_label, maxlength: "64", autocomplete: "off" });
    if (passkeyFlow) input.value = S.m_passkey;
    var err = el("div", { role: "alert", "class": aria ? null : "ms-TextField-errorMessage", hidden: true });
    var primaryLabel = passkeyFlow ? S.done : S.next;
    var next = button(primaryLabel, { primary: true, name: passkeyFlow ? "Done" : "Next", disabled: cfg.nameNextDisabled && !input.value.trim(), onclick: function () {
      var name = input.value.trim();
      if (!name) { err.textContent = S.name_empty; err.hidden = false; return; }
      setDisabled(next, true);
      var vd = { Name: name, Canary: canary };
      if (ctx) {
        vd.AttestationObject = ctx.attestationObject;
        vd.ClientDataJson = ctx.clientDataJson;
        vd.CredentialId = ctx.credentialId;
        vd.ClientExtensionResults = ctx.clientExtensionResults;
        vd.Transports = ctx.transports ? ctx.transports.split(",") : [];
        vd.AAGuid = ctx.aaguid;
      }
      api("/api/authenticationmethods/verify", { Type: legacy ? 12 : 18, VerificationData: JSON.stringify(vd) }).then(function (j) {
        if (j && j.VerificationState === 2) {
          if (passkeyFlow) closeDialog(); else stepDone();
          loadMethods();
        } else if (j && j.ErrorCode === 34) {
          // The key model is refused at verify: said in the dialog.
          openDialog(title, [el("div", { role: "alert", "class": aria ? null : "ms-MessageBar ms-MessageBar--error", text: j.ErrorMessage || S.aaguid_restricted })], [
            button(S.cancel, { name: "Cancel", onclick: closeDialog })
          ]);
        } else if (j && j.ErrorCode === 32) {
          err.textContent = j.ErrorMessage || S.name_empty; err.hidden = false; setDisabled(next, false);
        } else { closeDialog(); showBanner(bannerFor(j || {})); }
      }, function (e) { closeDialog(); showBanner(S.generic_error + " (" + e.message + ")"); });
    } });
    if (cfg.nameNextDisabled) {
      input.addEventListener("input", function () { setDisabled(next, !input.value.trim()); });
    }
    input.addEventListener("keydown", function (e) { if (e.key === "Enter" && !isDisabled(next)) next.click(); });
    openDialog(title, [
      el("p", { text: passkeyFlow ? S.passkey_name_prompt : S.name_prompt }),
      el("label", { "for": input.id, "class": aria ? null : "ms-Label", text: S.name_label }),
      input, err
    ], [next]);
    input.focus();
  }

  function stepDone() {
    openDialog(S.m_security_key, [el("p", { text: S.all_set })], [
      button(S.done, { primary: true, name: "Done", onclick: closeDialog })
    ]);
  }

  function render() {
    root.textContent = "";
    banner = el("div", { id: aria ? null : "ms-banner", role: "alert", "class": "ms-MessageBar ms-MessageBar--error", hidden: true });
    list = el("div", { role: "list", id: aria ? null : "methodsList", "class": "si-methods" });
    root.appendChild(el("div", { "class": "si-header" }, [
      el("span", { "class": "si-user", text: cfg.displayName || "" })
    ]));
    root.appendChild(el("main", { "class": "si-main" }, [
      el("div", { role: "heading", "aria-level": "1", "class": "si-title", text: S.si_title }),
      el("p", { "class": "si-desc", text: S.si_desc }),
      banner,
      button(S.add_method, { name: "Add method", extra: "ms-Button--action", aria: S.add_method, onclick: function () { hideBanner(); stepChooseMethod(); } }),
      list
    ]));
  }

  render();
  if (cfg.busy) {
    // The busyPage scenario: a DOM that never stops changing.
    var tick = el("div", { "class": "si-ticker", "aria-hidden": "true" });
    document.body.appendChild(tick);
    var n = 0;
    setInterval(function () { tick.textContent = String(n++); }, 4);
  }
  api("/api/session/authorize", {}).then(function (j) {
    sessionCtx = j.sessionCtxV2;
    return loadMethods();
  }).then(function () {
    var h = location.hash;
    var ok = /fidoProvisionSuccess=([^&]+)/.exec(h);
    var bad = /fidoProvisionError=([^&]+)/.exec(h);
    if (ok || bad) history.replaceState(null, "", location.pathname);
    if (ok) {
      var canary = decodeURIComponent(ok[1]), ctx = null;
      try { ctx = JSON.parse(sessionStorage.getItem("fidoProvisionContext") || "null"); } catch (e) { ctx = null; }
      if (ctx && ctx.canary !== canary) ctx = null;
      sessionStorage.removeItem("fidoProvisionContext");
      stepName(canary, ctx);
    } else if (bad) {
      showBanner(S.reg_failed);
    }
  }).catch(function (e) {
    showBanner(S.generic_error + " (" + e.message + ")");
  });
})();
