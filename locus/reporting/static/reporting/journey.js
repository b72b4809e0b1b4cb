// The report journey: the browser's own Back button does what the form's "Back" does.
// Each step is a POST to the same address whose answer is never stored (no-store), so going
// back in the history could only show the browser's "Confirm form resubmission" page — on a
// phone, the first thing a frightened person presses. On each step after the first, an extra
// history entry is added when the person first uses the page (browsers skip entries added
// without a user's action); leaving it with Back presses the form's "Back" button, which shows
// the step before with every answer kept. Without JavaScript the form's button is there.
(function () {
  "use strict";
  var form = document.getElementById("journey-form");
  if (!form || !window.history || !history.pushState) return;
  var back = form.querySelector("button[name=action][value=back]");
  if (!back) return; // the first step: Back leaves the form as usual
  var events = ["keydown", "mousedown", "pointerup", "touchend"];
  function arm(event) {
    if (event.type === "keydown" && event.key === "Escape") return; // quick exit's key
    events.forEach(function (type) { document.removeEventListener(type, arm, true); });
    history.pushState({ journey: true }, "");
  }
  events.forEach(function (type) { document.addEventListener(type, arm, true); });
  window.addEventListener("popstate", function () {
    back.click();
  });
})();
