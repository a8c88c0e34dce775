// Assessment sittings: tell the server when an exercise comes into view and when the
// candidate leaves the page or comes back. The server stamps each event with its own
// clock (time per exercise is computed there); this file only says what happened.
// Finishing goes to the assessment's submit endpoint, so the candidate lands on their
// sitting page rather than on the quiz review.
(function () {
  "use strict";

  var node = document.getElementById("assessment-config");
  var form = document.getElementById("answer-form");
  if (!node || !form) { return; }
  var config = JSON.parse(node.textContent);
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  // Moving to another exercise or submitting hides this page too; that is not leaving.
  var navigating = false;

  function report(kind) {
    // keepalive: the event still arrives when the page is being closed.
    return fetch(config.eventUrl, {
      method: "POST",
      keepalive: true,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ kind: kind, item: config.itemId })
    }).catch(function () { return null; });
  }

  var submitForm = document.getElementById("submit-form");
  if (submitForm) {
    submitForm.action = config.submitUrl;
    submitForm.addEventListener("submit", function () { navigating = true; });
  }
  document.querySelectorAll("a[data-nav]").forEach(function (link) {
    link.addEventListener("click", function () { navigating = true; });
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      if (!navigating) { report("hidden"); }
    } else {
      navigating = false;
      report("visible");
    }
  });

  if (document.visibilityState === "visible") { report("view"); }
})();
