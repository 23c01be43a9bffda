/* The photo viewer (templates/posts/_viewer.html): a post's photos full screen in a modal
   <dialog>. Arrow keys and swipes go to the next or previous photo; Escape, the close button
   and the browser's back button close it (opening adds a history entry), and the focus
   returns to the photo that opened it. Pinch zoom is the browser's own (touch-action on the
   image). Without this file, or in a browser without <dialog>, a photo link opens the photo. */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  ready(function () {
    var dialog = document.querySelector("[data-viewer]");
    if (!dialog || typeof dialog.showModal !== "function") { return; }
    var image = dialog.querySelector("[data-viewer-image]");
    var counter = dialog.querySelector("[data-viewer-counter]");
    var caption = dialog.querySelector("[data-viewer-caption]");
    var prev = dialog.querySelector("[data-viewer-prev]");
    var next = dialog.querySelector("[data-viewer-next]");
    var closeButton = dialog.querySelector("[data-viewer-close]");
    var stage = dialog.querySelector("[data-viewer-stage]");
    var items = [];
    var index = 0;
    var opener = null;
    var ownEntry = false;  // the history entry opening added is still the current one

    function show(i) {
      index = Math.max(0, Math.min(items.length - 1, i));
      var link = items[index];
      var thumb = link.querySelector("img");
      image.src = link.href;
      image.alt = thumb ? thumb.alt : "";
      image.width = parseInt(link.getAttribute("data-width"), 10) || 0;
      image.height = parseInt(link.getAttribute("data-height"), 10) || 0;
      counter.textContent = (index + 1) + " / " + items.length;
      var text = link.getAttribute("data-caption") || "";
      caption.textContent = text;
      caption.hidden = !text;
      prev.disabled = index === 0;
      next.disabled = index === items.length - 1;
      prev.hidden = next.hidden = items.length < 2;
      if (items[index + 1]) { new Image().src = items[index + 1].href; }
    }

    function open(link) {
      var gallery = link.closest("[data-gallery]");
      items = Array.prototype.slice.call(gallery.querySelectorAll("[data-viewer-photo]"));
      opener = link;
      show(items.indexOf(link));
      dialog.showModal();
      closeButton.focus();
      history.pushState({ klimopViewer: true }, "");
      ownEntry = true;
    }

    function step(delta) {
      var wanted = index + delta;
      if (wanted >= 0 && wanted < items.length) { show(wanted); }
    }

    document.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("[data-viewer-photo]") : null;
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) { return; }
      event.preventDefault();
      open(link);
    });

    // Every way of closing ends here (the close button, Escape, the back button).
    dialog.addEventListener("close", function () {
      image.removeAttribute("src");
      if (ownEntry) {
        ownEntry = false;
        history.back();
      }
      if (opener) { opener.focus(); }
    });
    window.addEventListener("popstate", function () {
      if (dialog.open) {
        ownEntry = false;  // the browser already left the viewer's entry
        dialog.close();
      }
    });

    closeButton.addEventListener("click", function () { dialog.close(); });
    prev.addEventListener("click", function () { step(-1); });
    next.addEventListener("click", function () { step(1); });
    dialog.addEventListener("keydown", function (event) {
      if (event.key === "ArrowRight") { step(1); event.preventDefault(); }
      if (event.key === "ArrowLeft") { step(-1); event.preventDefault(); }
    });
    // A tap beside the photo closes, as in a phone's own gallery.
    var swiped = false;
    stage.addEventListener("click", function (event) {
      if (swiped) { swiped = false; return; }
      if (event.target === stage) { dialog.close(); }
    });

    // Swipes: one finger, mostly sideways, and not while the page is zoomed in (then the
    // finger pans the zoomed photo). Two fingers are a pinch: no swipe.
    var start = null;
    var down = {};
    stage.addEventListener("pointerdown", function (event) {
      swiped = false;
      down[event.pointerId] = true;
      start = Object.keys(down).length === 1 ? { x: event.clientX, y: event.clientY } : null;
    });
    var lift = function (event) {
      if (!down[event.pointerId]) { return; }
      delete down[event.pointerId];
      if (!start || event.type === "pointercancel" || !dialog.open) { start = null; return; }
      var dx = event.clientX - start.x;
      var dy = event.clientY - start.y;
      start = null;
      var zoomed = window.visualViewport && window.visualViewport.scale > 1.05;
      if (!zoomed && Math.abs(dx) > 50 && Math.abs(dx) > 1.5 * Math.abs(dy)) {
        swiped = true;
        step(dx < 0 ? 1 : -1);
      }
    };
    window.addEventListener("pointerup", lift);
    window.addEventListener("pointercancel", lift);
  });
})();
