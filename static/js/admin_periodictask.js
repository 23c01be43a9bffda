/* django-celery-beat's periodic task form: show the chosen crontab in words under the field
   (was an inline script, which the Content-Security-Policy refuses). */
(function () {
  "use strict";
  var script = document.currentScript;
  var $ = window.django && window.django.jQuery;
  var data = document.getElementById("readable-crontabs");
  if (!$ || !data || !script) { return; }
  var readableCrontabs = JSON.parse(data.textContent);
  var originalHelp = script.dataset.crontabHelp || "";

  function updateCrontabHelp(additional) {
    var help = $(".field-crontab .help");
    help.text(originalHelp);
    help.append(document.createElement("br"), document.createTextNode("Translation: " + additional));
  }

  $(".field-crontab_translation").hide();
  $(".field-crontab").change(function () {
    updateCrontabHelp(readableCrontabs[$("#id_crontab").val()]);
  });
})();
