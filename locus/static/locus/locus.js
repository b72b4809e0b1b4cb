// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // Quick exit: replace this page in the history and leave at once (also Escape pressed twice).
  function quickExit(event) {
    var link = document.querySelector("[data-quick-exit]");
    if (!link) return;
    if (event) event.preventDefault();
    document.body.hidden = true;
    window.location.replace(link.href);
  }
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-quick-exit]")) quickExit(event);
  });
  var lastEscape = 0;
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !document.querySelector("[data-quick-exit]")) return;
    var now = Date.now();
    if (now - lastEscape < 800) quickExit(event);
    lastEscape = now;
  });

  // htmx: send the CSRF token with every request it makes.
  document.addEventListener("htmx:configRequest", function (event) {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    var token = input ? input.value : (match ? match[1] : "");
    if (token) event.detail.headers["X-CSRFToken"] = token;
  });
})();
