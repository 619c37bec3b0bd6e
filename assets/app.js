// TracPro: small helpers only. Everything works without JavaScript except the
// passkey ceremony (see passkeys below).
"use strict";

// Passkeys: registration (#passkey-register on the passkey pages), sign-in
// with the #passkey-signin button and, where the browser supports it, from the
// autofill of the email field (conditional mediation).
(function () {
  function toB64url(buf) {
    var bytes = new Uint8Array(buf), s = "";
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromB64url(str) {
    var s = str.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  // The CSRF token: the hidden field of any form, else the body's hx-headers.
  function csrfToken() {
    var input = document.querySelector('input[name="_csrf"]');
    if (input && input.value) return input.value;
    try {
      return JSON.parse(document.body.getAttribute("hx-headers:inherited"))["X-CSRF-Token"] || "";
    } catch (e) {
      return "";
    }
  }

  function post(url, body, fallback) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify(body || {})
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        if (!res.ok) throw new Error(data.error || fallback);
        return data;
      });
    });
  }

  function showError(msg) {
    var el = document.getElementById("passkey-error");
    if (!el) return;
    el.textContent = msg;
    el.hidden = !msg;
  }

  function credentialJSON(cred) {
    var r = cred.response, out = {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toB64url(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = toB64url(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = toB64url(r.authenticatorData);
      out.response.signature = toB64url(r.signature);
      if (r.userHandle) out.response.userHandle = toB64url(r.userHandle);
    }
    return out;
  }

  function register(btn) {
    var fallback = btn.getAttribute("data-failed") || "Error";
    var q = btn.getAttribute("data-enrol") === "1" ? "?enrol=1" : "";
    showError("");
    btn.disabled = true;
    post("/passkeys/register/begin" + q, {}, fallback).then(function (opts) {
      var pk = opts.publicKey;
      pk.challenge = fromB64url(pk.challenge);
      pk.user.id = fromB64url(pk.user.id);
      (pk.excludeCredentials || []).forEach(function (c) { c.id = fromB64url(c.id); });
      return navigator.credentials.create({ publicKey: pk });
    }).then(function (cred) {
      return post("/passkeys/register/finish", credentialJSON(cred), fallback);
    }).then(function (res) {
      window.location.assign(res.redirect || "/passkeys/");
    }).catch(function (err) {
      btn.disabled = false;
      showError(err && err.name === "NotAllowedError" ? fallback : (err && err.message) || fallback);
    });
  }

  // beginSignIn asks the server for the options of a discoverable sign-in.
  function beginSignIn(fallback) {
    return post("/passkeys/login/begin", {}, fallback).then(function (opts) {
      var pk = opts.publicKey;
      pk.challenge = fromB64url(pk.challenge);
      (pk.allowCredentials || []).forEach(function (c) { c.id = fromB64url(c.id); });
      return pk;
    });
  }

  // finishSignIn asks the browser for an assertion (in the autofill when
  // conditional) and signs in with it.
  function finishSignIn(btn, pk, conditional, signal, fallback) {
    if (signal && signal.aborted) return Promise.reject(new DOMException("aborted", "AbortError"));
    var req = { publicKey: pk };
    if (conditional) { req.mediation = "conditional"; req.signal = signal; }
    return navigator.credentials.get(req).then(function (cred) {
      var next = btn.getAttribute("data-next") || "/";
      return post("/passkeys/login/finish?next=" + encodeURIComponent(next), credentialJSON(cred), fallback);
    }).then(function (res) {
      window.location.assign(res.redirect || "/");
    });
  }

  function setupSignIn(btn) {
    var fallback = btn.getAttribute("data-failed") || "Error";
    var quiet = function (err) {
      // A cancelled or replaced request is not an error worth showing.
      if (err && err.name !== "AbortError" && err.name !== "NotAllowedError") showError(err.message || fallback);
    };
    var begun = Promise.resolve(), controller = null;
    if (PublicKeyCredential.isConditionalMediationAvailable) {
      begun = PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
        if (!ok) return;
        controller = new AbortController();
        var signal = controller.signal;
        return beginSignIn(fallback).then(function (pk) {
          finishSignIn(btn, pk, true, signal, fallback).catch(quiet);
        });
      }).catch(quiet);
    }
    btn.hidden = false;
    btn.addEventListener("click", function () {
      showError("");
      btn.disabled = true;
      // The autofill ceremony's begin must be done first: the session keeps
      // one ceremony, and the button's replaces it.
      begun.then(function () {
        if (controller) controller.abort();
        controller = null;
        return beginSignIn(fallback);
      }).then(function (pk) {
        return finishSignIn(btn, pk, false, null, fallback);
      }).catch(function (err) {
        btn.disabled = false;
        quiet(err);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.PublicKeyCredential || !navigator.credentials) return;
    var reg = document.getElementById("passkey-register");
    if (reg) {
      reg.hidden = false;
      reg.addEventListener("click", function () { register(reg); });
    }
    var signin = document.getElementById("passkey-signin");
    if (signin) setupSignIn(signin);
  });
})();

// Offline reading (README "Offline reading and lighter pages"): signed-in pages register the
// service worker (assets/sw.js), which keeps the dashboard pages the server
// marks; an htmx request that cannot reach the server shows the page's
// translated #offline-swap message instead of doing nothing.
(function () {
  if (document.body.hasAttribute("data-sw") && navigator.serviceWorker) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js").catch(function () {});
    });
  }
  function offlineMessage(show) {
    var el = document.getElementById("offline-swap");
    if (el) el.hidden = !show;
  }
  document.addEventListener("htmx:error", function (e) {
    // A request that got no response at all: no connection (a response
    // error, or a failed swap, has one).
    var ctx = e.detail && e.detail.ctx;
    if (ctx && !ctx.response) offlineMessage(true);
  });
  document.addEventListener("htmx:after:request", function () { offlineMessage(false); });
})();
