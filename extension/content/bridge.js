// WebAuthn bridge, in the page's own world on login.microsoft.com.
//
// It keeps the browser's navigator.credentials.create and .get and replaces
// them with functions that first ask the extension (through the isolated-world
// actuator, over a MessageChannel). The service worker answers from the
// panel's vault only for the running job's tab, on the FIDO registration
// page, for RP ID login.microsoft.com and the job's user, once; for every
// other call it says "fallback" and the browser's own create runs, untouched.
// The origin the vault signs for is taken by the extension from the browser,
// never from this page.
(() => {
  'use strict';
  const creds = navigator.credentials;
  if (!creds || !creds.create || window.__passkeyBridge) return;
  window.__passkeyBridge = true;
  const browserCreate = creds.create.bind(creds);
  const browserGet = creds.get.bind(creds);
  // How long to wait for the extension before falling back to the browser.
  const ASK_TIMEOUT_MS = 90_000;

  const b64url = (buf) => {
    const bytes = buf instanceof ArrayBuffer ? new Uint8Array(buf) : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };
  const fromB64url = (s) => {
    const bin = atob(String(s).replace(/-/g, '+').replace(/_/g, '/'));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  };
  const isBytes = (v) => v instanceof ArrayBuffer || ArrayBuffer.isView(v);

  // PublicKeyCredentialCreationOptions → JSON (binary members as base64url).
  function toJSON(v) {
    if (isBytes(v)) return b64url(v);
    if (Array.isArray(v)) return v.map(toJSON);
    if (v && typeof v === 'object') {
      const o = {};
      for (const [k, x] of Object.entries(v)) if (x !== undefined && typeof x !== 'function') o[k] = toJSON(x);
      return o;
    }
    return v;
  }

  function ask(kind, options) {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      const timer = setTimeout(() => { channel.port1.close(); resolve({ answer: 'fallback' }); }, ASK_TIMEOUT_MS);
      channel.port1.onmessage = (e) => { clearTimeout(timer); channel.port1.close(); resolve(e.data || { answer: 'fallback' }); };
      window.postMessage({ __passkeyBridge: kind, options }, location.origin, [channel.port2]);
    });
  }

  // The PublicKeyCredential around a response object, from its JSON.
  function asCredential(json, response) {
    const cred = Object.create(PublicKeyCredential.prototype);
    Object.defineProperties(cred, {
      id: { value: json.id, enumerable: true },
      rawId: { value: fromB64url(json.rawId || json.id), enumerable: true },
      type: { value: 'public-key', enumerable: true },
      authenticatorAttachment: { value: json.authenticatorAttachment || 'cross-platform', enumerable: true },
      response: { value: response, enumerable: true },
      getClientExtensionResults: { value: () => ({ ...(json.clientExtensionResults || {}) }) },
      toJSON: { value: () => JSON.parse(JSON.stringify(json)) },
    });
    return cred;
  }

  // RegistrationResponseJSON → an object that behaves as a
  // PublicKeyCredential: own properties shadow the prototype's getters, so
  // `instanceof` holds and reads do not hit the native accessors.
  function toCredential(json) {
    const r = json.response || {};
    const response = Object.create(AuthenticatorAttestationResponse.prototype);
    const transports = Array.isArray(r.transports) ? r.transports.slice() : ['usb'];
    Object.defineProperties(response, {
      clientDataJSON: { value: fromB64url(r.clientDataJSON), enumerable: true },
      attestationObject: { value: fromB64url(r.attestationObject), enumerable: true },
      getTransports: { value: () => transports.slice() },
      getAuthenticatorData: { value: () => (r.authenticatorData ? fromB64url(r.authenticatorData) : new ArrayBuffer(0)) },
      getPublicKey: { value: () => (r.publicKey ? fromB64url(r.publicKey) : null) },
      getPublicKeyAlgorithm: { value: () => (typeof r.publicKeyAlgorithm === 'number' ? r.publicKeyAlgorithm : -7) },
    });
    return asCredential(json, response);
  }

  async function create(options) {
    if (!options || !options.publicKey) return browserCreate(options);
    const answer = await ask('create', toJSON(options.publicKey));
    if (answer.answer === 'credential' && answer.credential) return toCredential(answer.credential);
    if (answer.answer === 'error') throw new DOMException(String(answer.message || 'The security key could not be created.'), 'NotAllowedError');
    // Not for the extension: the browser's own create, and tell the
    // extension what it made (manual mode watches for it).
    const cred = await browserCreate(options);
    try { window.postMessage({ __passkeyBridge: 'observed', credentialId: cred.id }, location.origin); } catch {}
    return cred;
  }

  // AuthenticationResponseJSON → a PublicKeyCredential-shaped assertion.
  function toAssertion(json) {
    const r = json.response || {};
    const response = Object.create(AuthenticatorAssertionResponse.prototype);
    Object.defineProperties(response, {
      clientDataJSON: { value: fromB64url(r.clientDataJSON), enumerable: true },
      authenticatorData: { value: fromB64url(r.authenticatorData), enumerable: true },
      signature: { value: fromB64url(r.signature), enumerable: true },
      userHandle: { value: r.userHandle ? fromB64url(r.userHandle) : null, enumerable: true },
    });
    return asCredential(json, response);
  }

  async function get(options) {
    if (!options || !options.publicKey) return browserGet(options);
    const answer = await ask('get', toJSON(options.publicKey));
    if (answer.answer === 'credential' && answer.credential) return toAssertion(answer.credential);
    if (answer.answer === 'error') throw new DOMException(String(answer.message || 'The security key could not sign in.'), 'NotAllowedError');
    return browserGet(options);
  }

  Object.defineProperty(creds, 'create', { value: create, configurable: true, writable: true });
  Object.defineProperty(creds, 'get', { value: get, configurable: true, writable: true });
})();
