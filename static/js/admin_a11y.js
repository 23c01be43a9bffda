// The admin's two-list selector (admin/js/SelectFilter2.js, built on "load") puts its search
// hint in the aria-label of a <span> without a role, which ARIA does not allow and screen
// readers may skip: as role="img" the hint is a named image, which names the search box.
(function () {
  "use strict";
  window.addEventListener("load", function () {
    document.querySelectorAll(".selector .search-label-icon[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  });
})();
