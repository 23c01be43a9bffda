/* Browser push. On the notifications page one button turns Klimop's notifications on or off
   for this browser; on a parent's home a dismissable card invites them to turn it on (the
   second part below). Without JavaScript, or in a browser without Web Push, nothing is offered. */
(function () {
  "use strict";
  var card = document.getElementById("push-card");
  if (!card) { return; }
  var button = card.querySelector("[data-push-toggle]");
  var status = card.querySelector("[data-push-status]");
  var csrf = card.querySelector("[name=csrfmiddlewaretoken]").value;
  var text = card.dataset;
  var known = JSON.parse((document.getElementById("push-endpoints") || {}).textContent || "[]");
  var registration = null;
  var on = false;

  card.hidden = false;

  function say(message) { status.textContent = message || ""; }

  function show(isOn) {
    on = isOn;
    say(isOn ? text.textOn : text.textOff);
    button.textContent = isOn ? text.labelOff : text.labelOn;
    button.setAttribute("aria-pressed", isOn ? "true" : "false");
    button.disabled = false;
  }

  function keyBytes(base64url) {
    var base64 = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes;
  }

  function sameKey(subscription) {
    var current = subscription.options && subscription.options.applicationServerKey;
    if (!current) { return true; }  // the browser does not tell: assume ours
    var a = new Uint8Array(current);
    var b = keyBytes(text.publicKey);
    if (a.length !== b.length) { return false; }
    for (var i = 0; i < a.length; i++) { if (a[i] !== b[i]) { return false; } }
    return true;
  }

  function sha256(value) {
    return window.crypto.subtle.digest("SHA-256", new TextEncoder().encode(value)).then(function (digest) {
      return Array.prototype.map.call(new Uint8Array(digest), function (b) {
        return ("0" + b.toString(16)).slice(-2);
      }).join("");
    });
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    });
  }

  function current() {
    return registration.pushManager.getSubscription();
  }

  function turnOn() {
    return Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        show(false);
        say(text.textDenied);
        return null;
      }
      return current().then(function (old) {
        // A subscription made with another key (the school renewed its keys) cannot be used.
        if (old && !sameKey(old)) {
          return post(text.unsubscribeUrl, { endpoint: old.endpoint }).then(function () {
            return old.unsubscribe();
          }).then(function () { return null; });
        }
        return old;
      }).then(function (existing) {
        return existing || registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(text.publicKey),
        });
      }).then(function (subscription) {
        return post(text.subscribeUrl, subscription.toJSON());
      }).then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        show(true);
      });
    });
  }

  function turnOff() {
    return current().then(function (subscription) {
      if (!subscription) { return null; }
      return post(text.unsubscribeUrl, { endpoint: subscription.endpoint }).then(function (response) {
        // 404: the server had already forgotten this browser; switch it off here too.
        if (!response.ok && response.status !== 404) { throw new Error(response.status); }
        return subscription.unsubscribe();
      });
    }).then(function () { show(false); });
  }

  var supported = window.isSecureContext && "serviceWorker" in navigator && "PushManager" in window &&
    "Notification" in window && window.crypto && window.crypto.subtle && window.fetch;
  if (!supported) {
    say(text.textUnsupported);
    button.remove();
    return;
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    (on ? turnOff() : turnOn()).catch(function () {
      button.disabled = false;
      say(text.textError);
    });
  });

  navigator.serviceWorker.register(text.swUrl, { scope: "/" }).then(function () {
    return navigator.serviceWorker.ready;
  }).then(function (ready) {
    registration = ready;
    return current();
  }).then(function (subscription) {
    if (!subscription || Notification.permission !== "granted" || !sameKey(subscription)) {
      show(false);
      if (Notification.permission === "denied") { say(text.textDenied); }
      return null;
    }
    // On only when the server has this browser too (it forgets it at logout).
    return sha256(subscription.endpoint).then(function (hash) { show(known.indexOf(hash) !== -1); });
  }).catch(function () {
    say(text.textUnsupported);
    button.remove();
  });
})();

// The invitation on a parent's home (templates/notifications/push_invite.html): shown only when
// this browser can receive push, permission was neither given nor refused, and the person did
// not dismiss it on this device. On an iPhone or iPad outside the home-screen app Safari has no
// push at all: the card explains how to add Klimop to the home screen first.
(function () {
  "use strict";
  var card = document.getElementById("push-invite");
  if (!card) { return; }
  var text = card.dataset;
  var status = card.querySelector("[data-push-invite-status]");
  var storageKey = "klimop.pushInvite.dismissed." + (text.user || "");

  function dismissed() {
    try { return window.localStorage.getItem(storageKey) === "1"; } catch (e) { return false; }
  }

  function remember() {
    try { window.localStorage.setItem(storageKey, "1"); } catch (e) { /* private mode: just hide */ }
  }

  function step(name) {
    card.querySelectorAll("[data-push-invite-step]").forEach(function (el) {
      el.hidden = el.dataset.pushInviteStep !== name;
    });
    card.hidden = false;
  }

  function keyBytes(base64url) {
    var base64 = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes;
  }

  var ios = /iPad|iPhone|iPod/.test(navigator.userAgent) ||
    (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
  var standalone = window.navigator.standalone === true ||
    (window.matchMedia && window.matchMedia("(display-mode: standalone)").matches);
  var supported = window.isSecureContext && "serviceWorker" in navigator && "PushManager" in window &&
    "Notification" in window && window.fetch;

  if (dismissed()) { return; }
  if (ios && !standalone) {
    step("ios");
  } else if (supported && Notification.permission === "default") {
    step("ask");
  } else {
    return;
  }

  card.addEventListener("click", function (event) {
    if (event.target.closest("[data-push-dismiss]")) {
      remember();
      card.hidden = true;
      return;
    }
    var on = event.target.closest("[data-push-invite-on]");
    if (!on) { return; }
    on.disabled = true;
    // Asked first, inside the tap: browsers grant the permission prompt only to a gesture.
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        status.textContent = text.textDenied;
        on.hidden = true;
        return null;
      }
      return navigator.serviceWorker.register(text.swUrl, { scope: "/" }).then(function () {
        return navigator.serviceWorker.ready;
      }).then(function (registration) {
        return registration.pushManager.getSubscription().then(function (existing) {
          return existing || registration.pushManager.subscribe({
            userVisibleOnly: true,
            applicationServerKey: keyBytes(text.publicKey),
          });
        });
      }).then(function (subscription) {
        return fetch(text.subscribeUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: {
            "Content-Type": "application/json",
            "X-CSRFToken": card.querySelector("[name=csrfmiddlewaretoken]").value,
          },
          body: JSON.stringify(subscription.toJSON()),
        });
      }).then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        status.textContent = text.textOn;
        card.querySelectorAll("[data-push-invite-step] .push-invite__actions").forEach(function (el) {
          el.hidden = true;
        });
      });
    }).catch(function () {
      on.disabled = false;
      status.textContent = text.textError;
    });
  });
})();
