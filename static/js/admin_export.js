/* django-import-export's export page: "Select all" (was an inline onchange handler, which the
   Content-Security-Policy refuses). onSelectToggleChange comes from the package's own
   export_selectable_fields.js, loaded before this file. */
(function () {
  "use strict";
  document.querySelectorAll("input.select-toggle").forEach(function (toggle) {
    toggle.addEventListener("change", function (event) {
      if (typeof window.onSelectToggleChange === "function") {
        window.onSelectToggleChange(event);
      }
    });
  });
})();
