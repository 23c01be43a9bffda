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

// What used to be inline code (the Content-Security-Policy allows only these files):
// print buttons, selects that submit their form, copy buttons, and bars whose width comes
// from the page (set through element.style, which the policy allows; style="…" it does not).
(function () {
  "use strict";

  function percent(value) {
    var n = parseFloat(String(value).replace(",", "."));
    if (isNaN(n)) { return 0; }
    return Math.max(0, Math.min(100, n));
  }

  function setBars(root) {
    root.querySelectorAll("[data-bar-width]").forEach(function (el) {
      el.style.width = percent(el.dataset.barWidth) + "%";
    });
    root.querySelectorAll("[data-bar-left]").forEach(function (el) {
      el.style.left = percent(el.dataset.barLeft) + "%";
    });
  }
  window.klimopSetBars = setBars;

  function ready() {
    setBars(document);
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }

  document.addEventListener("click", function (event) {
    var print = event.target.closest("[data-print]");
    if (print) {
      window.print();
      return;
    }
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var input = document.getElementById(copy.dataset.copy);
      if (!input) { return; }
      input.select();
      var done = function () { copy.textContent = copy.dataset.copied || copy.textContent; };
      if (navigator.clipboard) {
        navigator.clipboard.writeText(input.value).then(done);
      } else {
        document.execCommand("copy");
        done();
      }
    }
  });
})();
