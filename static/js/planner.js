/* Klimop planner: book without reloading the page. Everything works without this file.
 *
 * A booking form inside [data-planner-book] is sent with fetch and the HX-Request header.
 * Booked: the server answers with HX-Redirect (the booking's page), which we open.
 * Refused (the time was just taken, 409; or another reason, 400): the server answers with
 * only the booking part of the page (the message and the free times), which replaces ours.
 */
(function () {
  "use strict";
  if (!window.fetch || !window.FormData) { return; }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var part = form.closest && form.closest("[data-planner-book]");
    if (!part || form.method.toLowerCase() !== "post") { return; }
    event.preventDefault();
    var buttons = form.querySelectorAll("button[type=submit]");
    buttons.forEach(function (b) { b.disabled = true; });
    fetch(form.action || window.location.href, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "HX-Request": "true", "HX-Current-URL": window.location.href }
    })
      .then(function (response) {
        var to = response.headers.get("HX-Redirect");
        if (to) { window.location.assign(to); return null; }
        if (response.status === 409 || response.status === 400) { return response.text(); }
        form.submit(); // anything else: let the browser send it the ordinary way
        return null;
      })
      .then(function (html) {
        if (html === null) { return; }
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("[data-planner-book]");
        if (!fresh) { form.submit(); return; }
        part.replaceWith(fresh);
        var alert = fresh.querySelector("[role=alert]");
        if (alert) {
          alert.setAttribute("tabindex", "-1");
          alert.focus();
        }
      })
      .catch(function () {
        buttons.forEach(function (b) { b.disabled = false; });
        form.submit();
      });
  });
})();
