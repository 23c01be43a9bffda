/* Post form: show the publication time as the author picks one, and the consent list of the
   chosen group when photos are added. Everything works without this file. */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  ready(function () {
    var note = document.querySelector("[data-publish-note]");
    var at = document.querySelector("input[name='publish_at']");
    if (note && at) {
      var text = note.querySelector("[data-publish-text]");
      var update = function () {
        var url = note.getAttribute("data-preview-url") + "?at=" + encodeURIComponent(at.value || "");
        fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (r) { return r.json(); })
          .then(function (data) {
            text.textContent = data.text;
            note.classList.toggle("alert--warning", !!data.held);
            note.classList.toggle("alert--info", !data.held);
          })
          .catch(function () {});
      };
      at.addEventListener("change", update);
    }

    var box = document.querySelector("[data-consent-box]");
    var audience = document.querySelector("select[name='audience']");
    var photos = document.querySelector("input[name='photos']");
    if (box) {
      var sync = function () {
        var group = audience ? audience.value : null;
        var groups = box.querySelectorAll("[data-consent-group]");
        var any = false;
        groups.forEach(function (el) {
          var show = !audience || el.getAttribute("data-consent-group") === group;
          el.hidden = !show;
          any = any || show;
        });
        var hasPhotos = photos && photos.files && photos.files.length > 0;
        var hasError = box.querySelector(".field--error");
        box.hidden = !any || !(hasPhotos || hasError);
      };
      if (audience) { audience.addEventListener("change", sync); }
      if (photos) { photos.addEventListener("change", sync); }
      sync();
    }
  });
})();
