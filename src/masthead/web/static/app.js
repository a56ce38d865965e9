// Copy buttons, confirmations, and the browser's time zone for the server (pages show times
// in it). Pages carry no inline script or handler: the Content-Security-Policy forbids them.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    });
  });
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  // IANA names are plain cookie characters (letters, digits, / _ + -): no encoding needed.
  if (zone && document.cookie.indexOf("masthead_tz=") === -1) {
    document.cookie = "masthead_tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
    if (document.querySelector("time")) location.reload();
  }
})();
