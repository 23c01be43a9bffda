// Drafts kept in this browser until the server confirms they were sent (issue 13: nothing typed
// is lost when the database or storage fails).
//
// A form marked data-draft="<key>" keeps the text the person types (textareas and text inputs
// listed in data-draft-fields, by name) in localStorage under "klimop-draft:<user id>:<key>"; a
// page shown again with the form untouched gets the text back. A draft is removed only when the
// send succeeded: after a submit, the next page reached through a redirect (Post/Redirect/Get),
// for the same logged-in user and without an error message, confirms it. An error page, a
// re-shown form, the browser's own "no connection" page or the login page after an expired
// session confirm nothing, so the draft stays. Logging out removes every draft in this browser
// (a shared family tablet); drafts older than a week are dropped.
(function () {
  "use strict";
  var PREFIX = "klimop-draft:";
  var PENDING = "klimop-draft-pending";
  var MAX_AGE_MS = 7 * 24 * 3600 * 1000;
  var script = document.currentScript;
  var user = script ? script.getAttribute("data-user") || "" : "";
  var store;
  try {
    store = window.localStorage;
    store.getItem(PREFIX);  // private modes may refuse any use at all
  } catch (e) {
    return;
  }

  function each(callback) {
    for (var i = store.length - 1; i >= 0; i--) {
      var name = store.key(i);
      if (name && name.indexOf(PREFIX) === 0) { callback(name); }
    }
  }

  function forgetAll() {
    each(function (name) { store.removeItem(name); });
    try { window.sessionStorage.removeItem(PENDING); } catch (e) { /* nothing pending */ }
  }

  function read(name) {
    try { return JSON.parse(store.getItem(name) || "null"); } catch (e) { return null; }
  }

  // Old drafts go: a draft is for the next minutes or days, not for ever.
  var now = Date.now();
  each(function (name) {
    var draft = read(name);
    if (!draft || typeof draft.at !== "number" || now - draft.at > MAX_AGE_MS) { store.removeItem(name); }
  });

  // Logging out forgets every draft in this browser, whoever wrote it.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form && form.action && /\/logout\/?$/.test(new URL(form.action, location.href).pathname)) {
      forgetAll();
    }
  }, true);

  if (!user) { return; }  // not logged in: nothing of anyone is shown or kept

  // The outcome of the last send from this tab.
  var pending = null;
  try {
    pending = JSON.parse(window.sessionStorage.getItem(PENDING) || "null");
    window.sessionStorage.removeItem(PENDING);
  } catch (e) { pending = null; }
  if (pending && pending.user === user) {
    var navigation = window.performance && performance.getEntriesByType
      ? performance.getEntriesByType("navigation")[0] : null;
    var redirected = navigation ? navigation.redirectCount > 0 && navigation.type === "navigate" : false;
    var failed = document.querySelector(".alert--error, .field--error");
    if (redirected && !failed) { store.removeItem(pending.name); }
  }

  function fieldsOf(form) {
    var names = (form.getAttribute("data-draft-fields") || "body").split(/\s+/);
    var fields = [];
    names.forEach(function (name) {
      var field = name && form.elements.namedItem(name);
      if (field && (field.tagName === "TEXTAREA" || (field.tagName === "INPUT" && field.type === "text"))) {
        fields.push(field);
      }
    });
    return fields;
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-draft]"), function (form) {
    var name = PREFIX + user + ":" + form.getAttribute("data-draft");
    var fields = fieldsOf(form);
    if (!fields.length) { return; }

    var draft = read(name);
    var untouched = fields.every(function (field) { return field.value === field.defaultValue; });
    var differs = draft && draft.values && fields.some(function (field) {
      return typeof draft.values[field.name] === "string" && draft.values[field.name] !== field.value;
    });
    if (untouched && differs) {
      fields.forEach(function (field) {
        if (typeof draft.values[field.name] === "string") { field.value = draft.values[field.name]; }
      });
      var note = form.getAttribute("data-draft-restored");
      if (note) {
        var p = document.createElement("p");
        p.className = "alert alert--info";
        p.setAttribute("role", "status");
        p.setAttribute("data-draft-note", "");
        p.textContent = note;
        form.insertBefore(p, form.firstElementChild ? form.firstElementChild.nextSibling : null);
      }
    }

    function save() {
      var values = {};
      var any = false;
      fields.forEach(function (field) {
        values[field.name] = field.value;
        if (field.value.trim()) { any = true; }
      });
      if (any) {
        try { store.setItem(name, JSON.stringify({ at: Date.now(), values: values })); } catch (e) { /* full */ }
      } else {
        store.removeItem(name);
      }
    }

    fields.forEach(function (field) { field.addEventListener("input", save); });
    form.addEventListener("submit", function () {
      save();
      try {
        window.sessionStorage.setItem(PENDING, JSON.stringify({ name: name, user: user }));
      } catch (e) { /* the draft then stays until the person clears the field */ }
    });
  });
})();
