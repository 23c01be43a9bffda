/* Klimop planner: book without reloading the page. Everything works without this file.
 *
 * A booking form inside [data-planner-book] is sent with fetch and the HX-Request header.
 * Booked: the server answers with HX-Redirect (the booking's page), which we open.
 * Refused (the time was just taken, 409; or another reason, 400): the server answers with
 * part of the page. For one child ([data-planner-refused]): the message, which goes to the top
 * of the booking part, and that child's part with its free times, which replaces only that
 * child's part. Otherwise the whole booking part (the message, the back-to-back suggestions
 * and the free times), which replaces ours.
 */
(function () {
  "use strict";
  if (!window.fetch || !window.FormData) { return; }

  /* One child's part, read afresh: replaces that child's part; the message goes on top. */
  function showRefused(part, holder) {
    var refused = holder.querySelector("[data-planner-refused]");
    var fresh = refused && refused.querySelector("[data-planner-child]");
    var alert = refused && refused.querySelector("[role=alert]");
    if (!fresh || !alert) { return null; }
    var id = fresh.getAttribute("data-planner-child");
    var mine = Array.prototype.find.call(part.querySelectorAll("[data-planner-child]"), function (el) {
      return el.getAttribute("data-planner-child") === id;
    });
    if (!mine) { return null; }
    Array.prototype.forEach.call(part.querySelectorAll("[role=alert]"), function (el) {
      if (el.parentNode === part) { el.remove(); }
    });
    part.insertBefore(alert, part.firstChild);
    mine.replaceWith(fresh);
    return alert;
  }

  /* The whole booking part: replaces ours. */
  function showBookingPart(part, holder) {
    var fresh = holder.querySelector("[data-planner-book]");
    if (!fresh) { return null; }
    part.replaceWith(fresh);
    return fresh.querySelector("[role=alert]") || fresh;
  }

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
        var alert = showRefused(part, holder) || showBookingPart(part, holder);
        if (!alert) { form.submit(); return; }
        alert.setAttribute("tabindex", "-1");
        alert.focus();
      })
      .catch(function () {
        buttons.forEach(function (b) { b.disabled = false; });
        form.submit();
      });
  });
})();
