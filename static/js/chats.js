// New chat messages without reloading: every 10 s, ask what became visible since the last answer.
(function () {
  "use strict";
  var list = document.getElementById("chat-messages");
  if (!list || !window.fetch) { return; }
  var busy = false;

  function poll() {
    if (busy || document.hidden) { return; }
    busy = true;
    var url = list.dataset.pollUrl + "?since=" + encodeURIComponent(list.dataset.since || "");
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        var last = response.headers.get("X-Since");
        var unread = response.headers.get("X-Unread-Chats");
        if (unread !== null && window.klimopShowUnreadChats) { window.klimopShowUnreadChats(parseInt(unread, 10)); }
        return response.text().then(function (html) { return { html: html, last: last }; });
      })
      .then(function (result) {
        if (result.html.trim()) {
          var box = document.createElement("ol");
          box.innerHTML = result.html;
          Array.prototype.forEach.call(box.querySelectorAll("li.bubble"), function (item) {
            if (!document.getElementById(item.id)) { list.appendChild(item); }
          });
          var empty = document.querySelector(".chat__empty");
          if (empty) { empty.remove(); }
          list.lastElementChild && list.lastElementChild.scrollIntoView({ block: "nearest" });
        }
        if (result.last) { list.dataset.since = result.last; }
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ })
      .then(function () { busy = false; });
  }

  var every = parseInt(list.dataset.pollEvery || "10000", 10);
  window.setInterval(poll, every);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { poll(); } });
})();
