/* Posts. On the form: the publication time as the author picks one, a preview of the chosen
   photos with a description field each, and the consent check of the chosen group whenever
   photos are part of the post. Under a post: the thank-you button without a page reload.
   Everything works without this file. */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  function publicationNote() {
    var note = document.querySelector("[data-publish-note]");
    var at = document.querySelector("input[name='publish_at']");
    if (!note || !at) { return; }
    var text = note.querySelector("[data-publish-text]");
    at.addEventListener("change", function () {
      var url = note.getAttribute("data-preview-url") + "?at=" + encodeURIComponent(at.value || "");
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          text.textContent = data.text;
          note.classList.toggle("alert--warning", !!data.held);
          note.classList.toggle("alert--info", !data.held);
        })
        .catch(function () {});
    });
  }

  // The photos chosen in the file input, shown before sending, each with a description
  // (sent in the same order as "photo_alt_new") and a way to take it out again.
  function newPhotos(onChange) {
    var input = document.querySelector("input[name='photos']");
    var list = document.querySelector("[data-new-photos]");
    if (!input || !list) { return; }
    var urls = [];
    var render = function () {
      var typed = Array.prototype.map.call(list.querySelectorAll("input[name='photo_alt_new']"), function (i) { return i.value; });
      urls.forEach(function (u) { URL.revokeObjectURL(u); });
      urls = [];
      list.textContent = "";
      Array.prototype.forEach.call(input.files || [], function (file, index) {
        var item = document.createElement("li");
        item.className = "upload";
        var img = document.createElement("img");
        img.className = "upload__thumb";
        img.alt = "";
        var url = URL.createObjectURL(file);
        urls.push(url);
        img.src = url;
        var label = document.createElement("label");
        label.className = "upload__alt";
        var caption = document.createElement("span");
        caption.textContent = list.getAttribute("data-alt-label") + " · " + file.name;
        var alt = document.createElement("input");
        alt.type = "text";
        alt.name = "photo_alt_new";
        alt.maxLength = 250;
        alt.placeholder = list.getAttribute("data-alt-placeholder");
        alt.value = typed[index] || "";
        label.appendChild(caption);
        label.appendChild(alt);
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "upload__remove upload__remove--button";
        remove.textContent = list.getAttribute("data-remove-label");
        remove.addEventListener("click", function () {
          var keep = new DataTransfer();
          Array.prototype.forEach.call(input.files, function (f, i) { if (i !== index) { keep.items.add(f); } });
          var alts = list.querySelectorAll("input[name='photo_alt_new']");
          alts[index].parentNode.parentNode.remove();
          input.files = keep.files;
          render();
          input.focus();
        });
        item.appendChild(img);
        item.appendChild(label);
        item.appendChild(remove);
        list.appendChild(item);
      });
      list.hidden = !list.children.length;
      onChange();
    };
    input.addEventListener("change", render);
    if (input.files && input.files.length) { render(); }
  }

  function consent() {
    var box = document.querySelector("[data-consent-box]");
    if (!box) { return function () {}; }
    var audience = document.querySelector("select[name='audience']");
    var photos = document.querySelector("input[name='photos']");
    var sync = function () {
      var group = audience ? audience.value : null;
      var any = false;
      box.querySelectorAll("[data-consent-group]").forEach(function (el) {
        var show = !audience || el.getAttribute("data-consent-group") === group;
        el.hidden = !show;
        any = any || show;
      });
      var chosen = photos && photos.files && photos.files.length > 0;
      var kept = Array.prototype.some.call(document.querySelectorAll("[data-kept-photo]"), function (item) {
        var remove = item.querySelector("[data-remove-kept]");
        return !(remove && remove.checked);
      });
      var hasError = box.querySelector(".consent-confirm--error");
      box.hidden = !any || !(chosen || kept || hasError);
    };
    if (audience) { audience.addEventListener("change", sync); }
    document.querySelectorAll("[data-remove-kept]").forEach(function (remove) {
      remove.addEventListener("change", function () {
        remove.closest(".upload").classList.toggle("upload--removed", remove.checked);
        sync();
      });
    });
    sync();
    return sync;
  }

  // The thank-you: sent in the background (as HTMX would: the server answers HX-Request with
  // the button alone), the form posts normally when that fails.
  function thanks() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.matches || !form.matches("[data-thanks]") || !window.fetch) { return; }
      event.preventDefault();
      var button = form.querySelector("button");
      button.disabled = true;
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "HX-Request": "true" }
      })
        .then(function (r) {
          if (!r.ok) { throw new Error(r.status); }
          return r.text();
        })
        .then(function (html) {
          var holder = document.createElement("div");
          holder.innerHTML = html.trim();
          var fresh = holder.firstElementChild;
          if (!fresh) { throw new Error("empty"); }
          form.replaceWith(fresh);
          var again = fresh.querySelector("button");
          if (again) { again.focus(); }
        })
        .catch(function () { form.submit(); });
    });
  }

  ready(function () {
    publicationNote();
    var sync = consent();
    newPhotos(sync);
    thanks();
  });
})();
