// login.microsoft.com/common/fido/get: sign in with a security key.
(function () {
  "use strict";
  var cfg = window.$Config || {};
  var str = window.$Strings || {};
  function b64uToBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function bufToB64u(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function set(id, v) { var el = document.getElementById(id); if (el) el.value = v; }
  function fail(e) {
    var el = document.getElementById("fidoError");
    if (el) { el.textContent = (str.error || "") + (e && e.name ? " (" + e.name + ")" : ""); el.hidden = false; }
  }
  function run() {
    var o = cfg.oGetOptions;
    if (!o) return;
    var pk = {
      challenge: b64uToBuf(o.challenge),
      rpId: o.rpId,
      timeout: o.timeout,
      userVerification: o.userVerification,
      allowCredentials: (o.allowCredentials || []).map(function (c) {
        return { type: c.type, id: b64uToBuf(c.id), transports: c.transports };
      })
    };
    navigator.credentials.get({ publicKey: pk }).then(function (cred) {
      set("credentialId", bufToB64u(cred.rawId));
      set("clientDataJSON", bufToB64u(cred.response.clientDataJSON));
      set("authenticatorData", bufToB64u(cred.response.authenticatorData));
      set("signature", bufToB64u(cred.response.signature));
      set("userHandle", cred.response.userHandle ? bufToB64u(cred.response.userHandle) : "");
      document.getElementById("fidoForm").submit();
    }, fail);
  }
  var retry = document.getElementById("idSIButton9");
  if (retry) retry.addEventListener("click", run);
  var back = document.getElementById("idBtn_Back");
  if (back) back.addEventListener("click", function () { history.back(); });
  run();
})();
