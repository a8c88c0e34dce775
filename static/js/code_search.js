// Live code search: results follow the typing, without a page load.
//
// The page works without this script (a plain GET form rendered by the server); the
// script only adds the live update. It asks the JSON endpoint (the search_codes shape)
// after a short pause in typing, drops answers to questions no longer asked, builds the
// list with textContent (never HTML from the server) inside a polite live region that
// starts with the count, and keeps the address bar in step for bookmarks and reloads.
// Keys: Down from the search box enters the results; Up and Down move through them;
// Home and End jump; Escape goes back to the search box.
(function () {
  "use strict";

  var DEBOUNCE_MS = 200;
  var LIMIT = 25;

  var form = document.getElementById("code-search-form");
  if (!form || !window.fetch) {
    return;
  }
  var input = document.getElementById("code-search-q");
  var system = document.getElementById("code-search-system");
  var date = document.getElementById("code-search-date");
  var region = document.getElementById("code-search-region");
  var results = document.getElementById("code-search-results");
  var status = document.getElementById("code-search-status");
  var apiUrl = form.dataset.apiUrl;
  var detailUrl = form.dataset.detailUrl;

  var timer = null;
  var inFlight = null;
  var lastAsked = null;

  function params() {
    var search = new URLSearchParams();
    search.set("q", input.value.trim());
    if (system.value) {
      search.set("system", system.value);
    }
    if (date.value) {
      search.set("date", date.value);
    }
    return search;
  }

  function codeUrl(hit) {
    return detailUrl
      .replace("SYSTEM", encodeURIComponent(hit.system))
      .replace("CODE", encodeURIComponent(hit.code));
  }

  function badge(text, classes) {
    var span = document.createElement("span");
    span.className = "badge " + classes;
    span.textContent = text;
    return span;
  }

  function render(hits, query) {
    results.textContent = "";
    if (hits.length) {
      var list = document.createElement("ol");
      list.className = "list-group list-group-numbered";
      list.id = "code-search-list";
      hits.forEach(function (hit) {
        var item = document.createElement("li");
        item.className = "list-group-item d-flex gap-2 align-items-start";
        var link = document.createElement("a");
        link.className = "code";
        link.href = codeUrl(hit);
        link.textContent = hit.code;
        var description = document.createElement("span");
        description.className = "flex-grow-1";
        description.textContent = hit.description;
        item.appendChild(link);
        item.appendChild(description);
        item.appendChild(badge(hit.system, "text-bg-secondary"));
        item.appendChild(
          hit.billable
            ? badge("Billable", "text-bg-success")
            : badge("Not billable", "text-bg-light border")
        );
        list.appendChild(item);
      });
      results.appendChild(list);
    }
    var count = hits.length + " result" + (hits.length === 1 ? "" : "s");
    status.textContent = query ? count + " for \u201c" + query + "\u201d." : "";
  }

  function ask() {
    var search = params();
    var query = search.get("q");
    var key = search.toString();
    if (key === lastAsked) {
      return;
    }
    lastAsked = key;
    history.replaceState(null, "", query ? "?" + key : window.location.pathname);
    if (inFlight) {
      inFlight.abort();
    }
    if (!query) {
      render([], "");
      return;
    }
    inFlight = new AbortController();
    search.set("limit", String(LIMIT));
    region.setAttribute("aria-busy", "true");
    fetch(apiUrl + "?" + search.toString(), {
      signal: inFlight.signal,
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) {
            throw new Error(body.error || "The search failed.");
          }
          return body;
        });
      })
      .then(function (hits) {
        render(hits, query);
      })
      .catch(function (error) {
        if (error.name !== "AbortError") {
          results.textContent = "";
          status.textContent = error.message;
        }
      })
      .finally(function () {
        region.setAttribute("aria-busy", "false");
      });
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, DEBOUNCE_MS);
  }

  function links() {
    return Array.prototype.slice.call(results.querySelectorAll("a"));
  }

  input.addEventListener("input", schedule);
  system.addEventListener("change", ask);
  date.addEventListener("change", ask);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    window.clearTimeout(timer);
    lastAsked = null;
    ask();
  });

  input.addEventListener("keydown", function (event) {
    var all = links();
    if (event.key === "ArrowDown" && all.length) {
      event.preventDefault();
      all[0].focus();
    }
  });

  results.addEventListener("keydown", function (event) {
    var all = links();
    var index = all.indexOf(document.activeElement);
    if (index < 0) {
      return;
    }
    var next = null;
    if (event.key === "ArrowDown") {
      next = all[Math.min(index + 1, all.length - 1)];
    } else if (event.key === "ArrowUp") {
      next = index === 0 ? input : all[index - 1];
    } else if (event.key === "Home") {
      next = all[0];
    } else if (event.key === "End") {
      next = all[all.length - 1];
    } else if (event.key === "Escape") {
      next = input;
    }
    if (next) {
      event.preventDefault();
      next.focus();
    }
  });
})();
