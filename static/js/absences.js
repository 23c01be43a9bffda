/* Absences: show the fields of the chosen kind, send a form once, and check leave dates as the
 * parent picks them. Everything works without this file (all fields shown, server checks). */
(function () {
  "use strict";

  // Report forms: [data-show-for="sick late"] blocks show only for those kinds.
  document.querySelectorAll("form[data-report-form]").forEach(function (form) {
    var radios = form.querySelectorAll('input[name="kind"]');
    var blocks = form.querySelectorAll("[data-show-for]");
    var relabel = form.querySelectorAll("[data-labels]");
    function update() {
      var checked = form.querySelector('input[name="kind"]:checked');
      var kind = checked ? checked.value : "";
      blocks.forEach(function (block) {
        block.hidden = block.dataset.showFor.split(" ").indexOf(kind) === -1;
      });
      // Some labels read better per kind ("First day" for a sickness, "Arrives at" for later).
      relabel.forEach(function (block) {
        var label = block.querySelector(".field__label");
        if (!label) { return; }
        if (!label.dataset.label) { label.dataset.label = label.textContent; }
        var labels = JSON.parse(block.dataset.labels);
        label.textContent = labels[kind] || label.dataset.label;
      });
    }
    radios.forEach(function (radio) { radio.addEventListener("change", update); });
    update();
  });

  // A second click while the first submit is on its way sends nothing (the server is idempotent too).
  document.querySelectorAll("form button[data-once]").forEach(function (button) {
    button.form.addEventListener("submit", function () {
      window.setTimeout(function () { button.disabled = true; }, 0);
    });
  });

  // Leave form: school days, refusals and warnings for the dates chosen so far.
  var leave = document.querySelector("form[data-leave-form]");
  if (!leave || !window.fetch) { return; }
  var box = leave.querySelector("[data-leave-check]");
  var timer = null;

  function paragraph(text, cls) {
    var p = document.createElement("p");
    p.className = cls;
    p.textContent = text;
    return p;
  }

  function check() {
    var data = new FormData(leave);
    var params = new URLSearchParams();
    data.getAll("pupils").forEach(function (pk) { params.append("pupils", pk); });
    ["kind", "starts_on", "ends_on"].forEach(function (name) { params.append(name, data.get(name) || ""); });
    var file = leave.querySelector('input[name="statement"]');
    var kept = leave.querySelector(".kept-file");
    params.append("statement", (file && file.files.length) || kept ? "1" : "0");
    if (!params.get("starts_on") || !params.get("ends_on") || !params.getAll("pupils").length) { return; }
    fetch(leave.dataset.checkUrl + "?" + params.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (answer) {
        if (!answer || !answer.ok) { return; }
        box.textContent = "";
        box.appendChild(paragraph(answer.school_days + " " + (answer.school_days === 1 ? box.dataset.one : box.dataset.many), "leave-check__days"));
        answer.errors.forEach(function (e) { box.appendChild(paragraph(e, "leave-check__error")); });
        if (answer.for_attendance_officer) { box.appendChild(paragraph(box.dataset.officer, "leave-check__note")); }
        answer.warnings.forEach(function (w) { box.appendChild(paragraph(w, "leave-check__warning")); });
        box.classList.toggle("leave-check--error", answer.errors.length > 0);
        box.classList.toggle("leave-check--warning", !answer.errors.length && answer.warnings.length > 0);
        box.hidden = false;
      })
      .catch(function () { /* the server checks again on submit */ });
  }

  leave.addEventListener("change", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(check, 150);
  });
})();
