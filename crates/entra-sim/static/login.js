// Sign-in page behaviour (login.microsoftonline.com). Loaded with the page's
// nonce; no eval, no inline handlers, so it runs under the strict CSP.
(function () {
  "use strict";
  var cfg = window.$Config || {};
  var str = window.$Strings || {};
  // The real page logs this when a TAP is rejected; tools watch for it.
  if (cfg.iErrorCode === 130503) {
    console.error("an access pass could not be found or verified for the user");
  }
  var form = document.getElementById("i0281");
  if (!form) return;
  var user = document.getElementById("i0116");
  var secret = document.getElementById("i0118") || document.getElementById("i0118a") ||
    document.getElementById("idTxtBx_SAOTCC_OTC");
  var focus = user || secret;
  if (focus) focus.focus();
  form.addEventListener("submit", function (ev) {
    if (user && !user.value.trim()) {
      ev.preventDefault();
      var e = document.getElementById("usernameClientError");
      if (e) { e.textContent = str.username_empty || ""; e.hidden = false; }
      return;
    }
    if (secret && !secret.value) {
      ev.preventDefault();
      var p = document.getElementById("passwordClientError");
      if (p) { p.textContent = str.password_empty || ""; p.hidden = false; }
      return;
    }
    var b = document.getElementById("idSIButton9");
    if (b) b.disabled = true;
  });
  // "No" on "Stay signed in?" is a button, as on the real page.
  var no = document.getElementById("idBtn_Back");
  var opts = document.getElementById("idLoginOptions");
  if (no && opts) {
    no.addEventListener("click", function () {
      opts.value = "3";
      form.submit();
    });
  }
})();
