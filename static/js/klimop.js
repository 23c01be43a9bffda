/* Klimop: small progressive enhancements. Everything works without this file. */
(function () {
  "use strict";

  // The account menu is a <details>: close it on Escape and on a click elsewhere.
  function closeMenus(except) {
    document.querySelectorAll("details.account-menu[open]").forEach(function (menu) {
      if (menu !== except) {
        menu.removeAttribute("open");
      }
    });
  }

  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest("details.account-menu"));
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    var open = document.querySelector("details.account-menu[open]");
    if (open) {
      open.removeAttribute("open");
      open.querySelector("summary").focus();
    }
  });
})();

// The navigation's unread badges (messages, notifications) stay right without reloading:
// ask every 30 s while the page is visible, and when it becomes visible again.
(function () {
  "use strict";
  var nav = document.querySelector("nav[data-counts-url]");
  if (!nav || !window.fetch) { return; }

  function show(selector, n) {
    if (typeof n !== "number") { return; }
    document.querySelectorAll(selector).forEach(function (badge) {
      badge.textContent = String(n);
      badge.hidden = n === 0;
    });
  }

  window.klimopShowUnreadChats = function (n) { show("[data-unread-chats]", n); };

  function refresh() {
    if (document.hidden) { return; }
    fetch(nav.dataset.countsUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (counts) {
        if (!counts) { return; }
        show("[data-unread-chats]", counts.chats);
        show("[data-unread-notifications]", counts.notifications);
      })
      .catch(function () { /* offline for a moment: try again next time */ });
  }

  window.setInterval(refresh, 30000);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(); } });
})();
