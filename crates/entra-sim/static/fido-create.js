// login.microsoft.com/{tenant}/fido/create: create the credential and post
// it back to Security info. RP ID login.microsoft.com; the challenge is the
// UTF-8 bytes of the serverChallenge string.
(function () {
  "use strict";
  var cfg = window.$Config || {};
  var str = window.$Strings || {};
  var form = document.getElementById("fidoForm");
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
  function field(name, v) { form.elements[name].value = v; }
  function aaguidOf(attObj) {
    // The AAGUID sits in authData after rpIdHash(32) flags(1) counter(4);
    // find authData by its CBOR key rather than parse all of CBOR.
    var b = new Uint8Array(attObj);
    var key = [0x68, 0x61, 0x75, 0x74, 0x68, 0x44, 0x61, 0x74, 0x61];
    for (var i = 0; i + key.length < b.length; i++) {
      var m = true;
      for (var j = 0; j < key.length; j++) if (b[i + j] !== key[j]) { m = false; break; }
      if (!m) continue;
      var p = i + key.length, t = b[p] & 0x1f, off = p + 1;
      if (t === 24) off = p + 2; else if (t === 25) off = p + 3; else if (t === 26) off = p + 5;
      var g = b.slice(off + 37, off + 53), h = "";
      for (var k = 0; k < g.length; k++) h += ("0" + g[k].toString(16)).slice(-2);
      return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
    }
    return "";
  }
  function showError(e) {
    var el = document.getElementById("fidoError");
    if (el) { el.textContent = (str.error || "") + (e && e.name ? " (" + e.name + ")" : ""); el.hidden = false; }
    var retry = document.getElementById("idSIButton9");
    if (retry) retry.hidden = false;
  }
  function run() {
    var o = cfg.oCreateOptions;
    if (!o || !form) return;
    var pk = {
      rp: o.rp,
      user: { id: b64uToBuf(o.user.id), name: o.user.name, displayName: o.user.displayName },
      challenge: new TextEncoder().encode(o.challenge),
      pubKeyCredParams: o.pubKeyCredParams,
      timeout: o.timeout,
      excludeCredentials: (o.excludeCredentials || []).map(function (c) {
        return { type: c.type, id: b64uToBuf(c.id), transports: c.transports };
      }),
      authenticatorSelection: o.authenticatorSelection,
      attestation: o.attestation,
      extensions: o.extensions
    };
    navigator.credentials.create({ publicKey: pk }).then(function (cred) {
      var r = cred.response;
      field("credentialId", bufToB64u(cred.rawId));
      field("clientDataJson", bufToB64u(r.clientDataJSON));
      field("attestationObject", bufToB64u(r.attestationObject));
      field("transports", (r.getTransports ? r.getTransports() : []).join(","));
      field("aaguid", aaguidOf(r.attestationObject));
      field("clientExtensionResults", bufToB64u(new TextEncoder().encode(JSON.stringify(cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}))));
      form.submit();
    }, function (e) {
      showError(e);
    });
  }
  var retry = document.getElementById("idSIButton9");
  if (retry) retry.addEventListener("click", function () { retry.hidden = true; run(); });
  run();
})();
