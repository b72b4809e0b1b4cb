// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // Quick exit: replace this page in the history and leave at once (also Escape pressed twice).
  function quickExit(event) {
    var link = document.querySelector("[data-quick-exit]");
    if (!link) return;
    if (event) event.preventDefault();
    // A report opened on the follow-up page stays open for the browser session: leaving it by
    // quick exit closes it too (the page's own "Close", sent as a beacon, which outlives the
    // page), so that the next person to pick up the device cannot open it again with Back.
    var close = document.querySelector("form[data-quick-exit-close]");
    if (close && navigator.sendBeacon && window.FormData) {
      var data = new FormData(close);
      data.append("action", "close");
      // getAttribute: the form's "action" property is its button named "action", if it has one.
      navigator.sendBeacon(close.getAttribute("action") || window.location.href, data);
    }
    document.body.hidden = true;
    window.location.replace(link.href);
  }
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-quick-exit]")) quickExit(event);
  });
  // A page reached by sending a form (each step of the report journey, the follow-up page) keeps
  // what was sent in its history entry: after a quick exit, Back (or "Confirm form resubmission")
  // sent it again and showed the answers, the account of what happened among them, to whoever
  // picked up the device next. Replacing the entry with a plain visit of the same address drops
  // what was sent: Back then opens the page empty. Pages without quick exit are left alone.
  if (document.querySelector("[data-quick-exit]") && window.history && history.replaceState) {
    history.replaceState(history.state, "");
  }
  var lastEscape = 0;
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !document.querySelector("[data-quick-exit]")) return;
    var now = Date.now();
    if (now - lastEscape < 800) quickExit(event);
    lastEscape = now;
  });

  // A region that htmx replaces as it polls (a job's progress) names a live region that stays in
  // place (data-announce-to): its state (data-announce) is copied there when it changes, so that
  // screen readers hear "Running", then "Succeeded", not the whole region at every poll.
  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll("[data-announce-to]").forEach(function (source) {
      var region = document.getElementById(source.getAttribute("data-announce-to"));
      var text = source.getAttribute("data-announce") || "";
      if (region && region.textContent !== text) region.textContent = text;
    });
  });

  // htmx: send the CSRF token with every request it makes.
  document.addEventListener("htmx:configRequest", function (event) {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    var token = input ? input.value : (match ? match[1] : "");
    if (token) event.detail.headers["X-CSRFToken"] = token;
  });

  // The routing-rule editor folds each condition into a line naming the values chosen (written
  // by the server at each load): keep that line current as boxes are ticked, in the page's own
  // words (data-condition-* on the conditions' section).
  document.addEventListener("change", function (event) {
    var group = event.target.closest("details.condition");
    var words = event.target.closest("[data-condition-any]");
    var line = group && group.querySelector("summary .condition-values");
    if (!line || !words) return;
    var labels = [];
    group.querySelectorAll("input:checked").forEach(function (input) {
      var label = input.closest("label") || group.querySelector('label[for="' + input.id + '"]');
      if (input.value && label) labels.push(label.textContent.trim());
    });
    var shown = parseInt(words.getAttribute("data-condition-shown"), 10) || 3;
    var text = labels.slice(0, shown).join("; ");
    var more = labels.length - shown;
    if (!labels.length) {
      text = words.getAttribute("data-condition-any");
    } else if (more > 0) {
      text = words.getAttribute(more === 1 ? "data-condition-more-one" : "data-condition-more-many")
        .replace("{values}", text).replace("{count}", String(more));
    }
    line.textContent = text;
  });
})();
