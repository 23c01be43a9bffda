/* Klimop staff dashboard (the whole school): a group's pupils are fetched when its fold opens.
 * Without this file the fold holds a link to the dashboard with that group's pupils. */
(function () {
  "use strict";
  if (!window.fetch) { return; }

  document.addEventListener("toggle", function (event) {
    var fold = event.target;
    if (!fold.matches || !fold.matches("details[data-pupils-url]") || !fold.open || fold.dataset.loaded) {
      return;
    }
    var holder = fold.querySelector("[data-pupils]");
    if (!holder) { return; }
    fold.dataset.loaded = "1";
    fetch(fold.dataset.pupilsUrl, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) { delete fold.dataset.loaded; return; }
        holder.innerHTML = html;
      })
      .catch(function () { delete fold.dataset.loaded; });
  }, true);
})();
