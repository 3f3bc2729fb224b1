// Sign-in page behaviour (login.microsoftonline.com), for both layouts.
// Loaded with the page's nonce; no eval, no inline handlers, so it runs
// under the strict CSP. The fluent layout has no stable ids: elements are
// found by their names, roles and ARIA relations, as a person finds them.
(function () {
  "use strict";
  var cfg = window.$Config || {};
  var str = window.$Strings || {};
  // The real page logs this when a TAP is rejected; tools watch for it.
  if (cfg.iErrorCode === 130503) {
    console.error("an access pass could not be found or verified for the user");
  }
  var form = document.getElementById("i0281") || document.querySelector("main form, .sim-card form");
  if (!form) return;
  var user = form.querySelector("input[name=loginfmt]:not([type=hidden])");
  var secret = form.querySelector("input[name=passwd], input[name=accesspass], input[name=otc]");
  var focus = user || secret;
  if (focus) focus.focus();
  // The element that shows a client-side error: by id in the classic
  // layout, the form's own (empty) alert in the fluent one.
  function errorBox(classicId) {
    return document.getElementById(classicId) || form.querySelector("[role=alert]");
  }
  form.addEventListener("submit", function (ev) {
    if (user && !user.value.trim()) {
      ev.preventDefault();
      var e = errorBox("usernameClientError");
      if (e) { e.textContent = str.username_empty || ""; e.hidden = false; }
      return;
    }
    if (secret && !secret.value) {
      ev.preventDefault();
      var p = errorBox("passwordClientError");
      if (p) { p.textContent = str.password_empty || ""; p.hidden = false; }
      return;
    }
    var b = document.getElementById("idSIButton9");
    if (b) b.disabled = true;
  });
  // Classic "Stay signed in?": "No" is a button that sets LoginOptions.
  // (The fluent page posts the submitter's name and value instead.)
  var no = document.getElementById("idBtn_Back");
  var opts = document.getElementById("idLoginOptions");
  if (no && opts) {
    no.addEventListener("click", function () {
      opts.value = "3";
      form.submit();
    });
  }
  // Fluent "Sign-in options": the tile opens the list it controls in place
  // of the sign-in card; the list's Back button returns.
  var tile = document.querySelector("button[aria-controls][aria-expanded]");
  var list = tile && document.getElementById(tile.getAttribute("aria-controls"));
  var card = form.closest("main");
  if (tile && list && card) {
    var show = function (open) {
      list.hidden = !open;
      card.hidden = open;
      tile.hidden = open;
      tile.setAttribute("aria-expanded", open ? "true" : "false");
      var first = open ? list.querySelector("a, [role=button]") : user;
      if (first) first.focus();
    };
    tile.addEventListener("click", function () { show(true); });
    var back = list.querySelector("button");
    if (back) back.addEventListener("click", function () { show(false); });
  }
})();
