// Bulk job page: polls the job's progress endpoint and updates the bar and counters
// without a reload. When the job finishes the page reloads once to show the summary.
// The bar is a <progress> element (value/max), so no inline style is needed (CSP).
(function () {
  "use strict";

  var section = document.getElementById("job-progress");
  if (!section || section.dataset.running !== "true") { return; }
  var url = section.dataset.progressUrl;
  var bar = document.getElementById("job-progress-bar");
  var delay = 1000;

  function show(name, value) {
    var node = section.querySelector('[data-field="' + name + '"]');
    if (node) { node.textContent = value === null || value === undefined ? "–" : String(value); }
  }

  function render(state) {
    bar.max = Math.max(state.total, 1);
    bar.value = state.done + state.failed;
    bar.textContent = state.percent + " %";
    ["status_label", "done", "total", "failed", "percent", "rate_per_s", "seconds_left",
      "chunks_done", "chunks_failed", "chunks_total"].forEach(function (name) {
      show(name, state[name]);
    });
  }

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (state) {
        render(state);
        if (state.finished) {
          window.location.reload();
          return;
        }
        delay = 1000;
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        // Back off while the server is unreachable, then keep trying.
        delay = Math.min(delay * 2, 15000);
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, delay);
}());
