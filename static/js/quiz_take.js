// Quiz taking: answer lines from the keyboard, shape checks and descriptor previews,
// autosave, practice checks and the countdown. The server stays the authority: it
// refuses late saves and grades; this file only makes typing pleasant.
(function () {
  "use strict";

  var configNode = document.getElementById("quiz-config");
  if (!configNode) { return; }
  var config = JSON.parse(configNode.textContent);
  var saved = JSON.parse(document.getElementById("saved-answer").textContent) || {};
  var form = document.getElementById("answer-form");
  var statusNode = document.getElementById("save-status");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var saveTimer = null;
  var pending = null;
  var dirty = false;
  var previewTimers = new WeakMap();

  var SHAPES = {
    "ICD-10-CM": /^[A-TV-Z][0-9][0-9AB]([0-9A-Z]{0,4})$/,
    "CPT": /^([0-9]{5}|[0-9]{4}[FTU])$/,
    "HCPCS": /^[A-CEGHJ-MP-V][0-9]{4}$/
  };

  function compact(text) { return (text || "").toUpperCase().replace(/[\s.]/g, ""); }

  function familyOf(text, expected) {
    var code = compact(text);
    if (expected === "ICD-10-CM") { return SHAPES["ICD-10-CM"].test(code) ? "ICD-10-CM" : null; }
    if (SHAPES.CPT.test(code)) { return "CPT"; }
    if (SHAPES.HCPCS.test(code)) { return "HCPCS"; }
    if (!expected && SHAPES["ICD-10-CM"].test(code)) { return "ICD-10-CM"; }
    return null;
  }

  function setStatus(text) { if (statusNode) { statusNode.textContent = text; } }

  // ---- Answer lines ------------------------------------------------------------

  function renumber() {
    ["dx", "proc"].forEach(function (kind) {
      var list = document.getElementById(kind + "-lines");
      if (!list) { return; }
      Array.prototype.forEach.call(list.children, function (line, index) {
        var label = (kind === "dx" ? "Diagnosis " : "Procedure line ") + (index + 1);
        line.querySelector(".line-number").textContent = (index + 1) + ".";
        line.querySelectorAll("input").forEach(function (input) {
          var field = input.dataset.field;
          var name = field === "code" ? "code" : field.replace("_", " ");
          input.setAttribute("aria-label", label + " " + name);
        });
      });
    });
  }

  function addLine(kind, values, after) {
    var list = document.getElementById(kind + "-lines");
    var template = document.getElementById(kind + "-template");
    var line = template.content.firstElementChild.cloneNode(true);
    values = values || {};
    line.querySelectorAll("input").forEach(function (input) {
      var value = values[input.dataset.field];
      if (Array.isArray(value)) { value = value.join(", "); }
      if (value !== undefined && value !== null) { input.value = String(value); }
    });
    if (after && after.parentNode === list) { after.after(line); } else { list.appendChild(line); }
    renumber();
    var code = line.querySelector(".code-input");
    if (code.value) { preview(code); }
    return line;
  }

  function collectLines(kind) {
    var list = document.getElementById(kind + "-lines");
    return Array.prototype.map.call(list.children, function (line) {
      var data = {};
      line.querySelectorAll("input").forEach(function (input) { data[input.dataset.field] = input.value.trim(); });
      return data;
    });
  }

  function collectAnswer() {
    if (config.type === "full_coding") {
      return {
        diagnoses: collectLines("dx").map(function (line) { return line.code; }),
        procedures: collectLines("proc").map(function (line) {
          return {
            code: line.code,
            modifiers: line.modifiers,
            units: line.units === "" ? 1 : line.units,
            dx_pointers: line.dx_pointers
          };
        })
      };
    }
    if (config.type === "sequencing") {
      return { order: Array.prototype.map.call(document.querySelectorAll(".order-line"), function (line) { return line.dataset.code; }) };
    }
    if (config.type === "linkage") {
      var links = {};
      document.querySelectorAll(".link-line").forEach(function (set) {
        links[set.dataset.label] = Array.prototype.map.call(set.querySelectorAll("input:checked"), function (box) { return box.value; });
      });
      return { links: links };
    }
    if (config.type === "audit") {
      var fixes = {};
      document.querySelectorAll(".audit-line").forEach(function (row) {
        var value = row.querySelector("input").value.trim();
        if (value) { fixes[row.dataset.ref] = value; }
      });
      return { fixes: fixes };
    }
    var checked = form.querySelector("input[name=value]:checked");
    var text = form.querySelector("input[name=value]:not([type=radio])");
    return { value: checked ? checked.value : (text ? text.value.trim() : "") };
  }

  function moveLine(line, step) {
    var sibling = step < 0 ? line.previousElementSibling : line.nextElementSibling;
    if (!sibling) { return; }
    if (step < 0) { sibling.before(line); } else { sibling.after(line); }
    renumber();
    scheduleSave();
  }

  function removeLine(line) {
    var list = line.parentNode;
    var focusTarget = line.previousElementSibling || line.nextElementSibling;
    line.remove();
    if (!list.children.length) { focusTarget = addLine(list.dataset.kind); }
    renumber();
    focusTarget.querySelector(".code-input").focus();
    scheduleSave();
  }

  if (config.type === "full_coding") {
    (saved.diagnoses && saved.diagnoses.length ? saved.diagnoses : [""]).forEach(function (code) {
      addLine("dx", { code: code });
    });
    (saved.procedures && saved.procedures.length ? saved.procedures : [{}]).forEach(function (line) {
      addLine("proc", line);
    });

    form.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) { return; }
      if (button.dataset.add) {
        addLine(button.dataset.add).querySelector(".code-input").focus();
        return;
      }
      var line = button.closest(".answer-line");
      if (!line) { return; }
      if (button.dataset.move) { moveLine(line, parseInt(button.dataset.move, 10)); button.focus(); }
      if (button.hasAttribute("data-remove")) { removeLine(line); }
    });

    form.addEventListener("keydown", function (event) {
      var input = event.target;
      var line = input.closest && input.closest(".answer-line");
      if (!line || input.tagName !== "INPUT") { return; }
      if (event.key === "Enter") {
        event.preventDefault();
        addLine(line.parentNode.dataset.kind, {}, line).querySelector(".code-input").focus();
      } else if (event.altKey && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
        event.preventDefault();
        moveLine(line, event.key === "ArrowUp" ? -1 : 1);
        input.focus();
      } else if (event.altKey && event.key === "Backspace") {
        event.preventDefault();
        removeLine(line);
      }
    });
  } else if (config.type === "sequencing") {
    var orderList = document.getElementById("order-lines");
    var renumberOrder = function () {
      Array.prototype.forEach.call(orderList.children, function (line, index) {
        line.querySelector(".line-number").textContent = (index + 1) + ".";
      });
    };
    var moveOrder = function (line, step, focusSelector) {
      var sibling = step < 0 ? line.previousElementSibling : line.nextElementSibling;
      if (!sibling) { return; }
      if (step < 0) { sibling.before(line); } else { sibling.after(line); }
      renumberOrder();
      line.querySelector(focusSelector).focus();
      save();
    };
    orderList.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-move]");
      if (button) {
        moveOrder(button.closest(".order-line"), parseInt(button.dataset.move, 10), "[data-move='" + button.dataset.move + "']");
      }
    });
    orderList.addEventListener("keydown", function (event) {
      if (event.altKey && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
        event.preventDefault();
        moveOrder(event.target.closest(".order-line"), event.key === "ArrowUp" ? -1 : 1, ".order-code");
      }
    });
  } else {
    form.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && event.target.tagName === "INPUT") { event.preventDefault(); }
    });
  }

  // ---- Shape check and descriptor preview ----------------------------------------

  function preview(input) {
    var holder = input.closest(".answer-line") || input.parentNode;
    var target = holder.querySelector(".line-preview");
    if (!target) { return; }
    var text = input.value.trim();
    input.classList.remove("is-invalid");
    if (!text) { target.textContent = ""; return; }
    var expected = input.dataset.system === "ICD-10-CM" ? "ICD-10-CM" : "";
    var family = familyOf(text, expected);
    if (!family) {
      input.classList.add("is-invalid");
      target.textContent = expected ? "Not shaped like an ICD-10-CM code (letter, digit, digit or A/B, then up to 4 characters)."
        : "Not shaped like a CPT (5 characters) or HCPCS Level II (letter + 4 digits) code.";
      return;
    }
    target.textContent = family + " · looking up…";
    clearTimeout(previewTimers.get(input));
    previewTimers.set(input, setTimeout(function () { lookUp(input, target, family); }, 300));
  }

  function lookUp(input, target, family) {
    if (!config.searchUrl) { target.textContent = family; return; }
    var code = compact(input.value);
    var url = config.searchUrl + "?limit=3&system=" + encodeURIComponent(family) +
      "&date=" + encodeURIComponent(config.date) + "&q=" + encodeURIComponent(input.value.trim());
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (hits) {
        if (compact(input.value) !== code) { return; }
        var hit = (hits || []).filter(function (h) { return compact(h.code) === code; })[0];
        if (!hit) {
          target.textContent = family + " · not found in the release in force on " + config.date + ".";
          return;
        }
        target.textContent = hit.code + " · " + hit.description + (hit.billable ? "" : " (not billable: needs more characters)");
      })
      .catch(function () { target.textContent = family; });
  }

  form.addEventListener("input", function (event) {
    if (event.target.classList.contains("code-input")) { preview(event.target); }
    scheduleSave();
  });
  form.addEventListener("change", function (event) {
    if (event.target.type === "radio" || event.target.type === "checkbox") { save(); }
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  document.querySelectorAll(".code-input").forEach(function (input) { if (input.value) { preview(input); } });

  // ---- Autosave -------------------------------------------------------------------

  function post(url, body, keepalive) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: Boolean(keepalive),
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify(body)
    });
  }

  function closedRedirect(response) {
    return response.json().then(function (data) {
      setStatus(data.message || "This attempt is closed.");
      if (data.redirect) { window.location.assign(data.redirect); }
      throw new Error("closed");
    });
  }

  function scheduleSave() {
    dirty = true;
    setStatus("Unsaved changes…");
    clearTimeout(saveTimer);
    saveTimer = setTimeout(save, 700);
  }

  function save() {
    clearTimeout(saveTimer);
    dirty = false;
    setStatus("Saving…");
    var flag = document.getElementById("flag-input");
    pending = post(config.saveUrl, { answer: collectAnswer(), flagged: flag ? flag.checked : false })
      .then(function (response) {
        if (response.status === 409) { return closedRedirect(response); }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        setStatus("All changes saved");
        if (data && typeof data.secondsLeft === "number") { secondsLeft = data.secondsLeft; }
      })
      .catch(function (error) {
        if (error.message !== "closed") {
          dirty = true;
          setStatus("Not saved (connection problem): retrying…");
          saveTimer = setTimeout(save, 3000);
        }
      });
    return pending;
  }

  // Leaving the exercise (navigator, previous/next) waits for the save to land.
  document.querySelectorAll("a[data-nav]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (!dirty && !pending) { return; }
      event.preventDefault();
      (dirty ? save() : pending).finally(function () { window.location.assign(link.href); });
    });
  });
  var submitForm = document.getElementById("submit-form");
  submitForm.addEventListener("submit", function (event) {
    if (!dirty) { return; }
    event.preventDefault();
    save().finally(function () { submitForm.submit(); });
  });
  // Closing or reloading the tab: one last save that outlives the page (keepalive).
  window.addEventListener("pagehide", function () {
    if (!dirty) { return; }
    var flag = document.getElementById("flag-input");
    post(config.saveUrl, { answer: collectAnswer(), flagged: flag ? flag.checked : false }, true);
  });

  // ---- Practice checks -------------------------------------------------------------

  var LINE_NAMES = { diagnoses: "Diagnosis", procedures: "Procedure line", order: "Position", claim: "Claim line" };

  function lineName(line) {
    var match = /^(\w+)\[(\d+)\]$/.exec(line || "");
    if (!match) { return ""; }
    var number = /^\d+$/.test(match[2]) ? parseInt(match[2], 10) + 1 : match[2];
    return (LINE_NAMES[match[1]] || match[1]) + " " + number;
  }

  function showFeedback(data) {
    var box = document.getElementById("feedback");
    box.textContent = "";
    var summary = document.createElement("div");
    summary.className = "alert " + (data.allCorrect ? "alert-success" : "alert-warning");
    summary.textContent = (data.allCorrect ? "All correct! " : "Not all right yet. ") +
      "Score " + data.score + " of " + data.maxScore + " (" + data.percent + " %).";
    box.appendChild(summary);
    var list = document.createElement("ul");
    list.className = "list-group feedback-list";
    data.findings.forEach(function (finding) {
      var item = document.createElement("li");
      item.className = "list-group-item finding finding-" + (finding.kind === "correct" ? "ok" : (finding.advisory ? "advice" : "bad"));
      var badge = document.createElement("span");
      badge.className = "badge me-2 " + (finding.kind === "correct" ? "text-bg-success" : (finding.advisory ? "text-bg-info" : "text-bg-danger"));
      badge.textContent = finding.label || finding.kind.replace(/_/g, " ");
      item.appendChild(badge);
      var where = lineName(finding.line);
      if (where) {
        var strong = document.createElement("strong");
        strong.textContent = where + (finding.code ? " (" + finding.code + ")" : "") + ": ";
        item.appendChild(strong);
      }
      item.appendChild(document.createTextNode(finding.message));
      list.appendChild(item);
    });
    box.appendChild(list);
  }

  var checkButton = document.getElementById("check-button");
  if (checkButton) {
    if (config.triesLeft <= 0) { checkButton.disabled = true; }
    checkButton.addEventListener("click", function () {
      clearTimeout(saveTimer);
      checkButton.disabled = true;
      post(config.checkUrl, { answer: collectAnswer() })
        .then(function (response) {
          if (response.status === 409) { return closedRedirect(response); }
          return response.json().then(function (data) { return { status: response.status, data: data }; });
        })
        .then(function (result) {
          var triesNode = document.getElementById("tries-left");
          if (result.status !== 200) {
            document.getElementById("feedback").textContent = result.data.message || "Check refused.";
            triesNode.textContent = "0";
            return;
          }
          dirty = false;
          setStatus("All changes saved");
          triesNode.textContent = String(result.data.triesLeft);
          showFeedback(result.data);
          checkButton.disabled = result.data.triesLeft <= 0;
        })
        .catch(function () { checkButton.disabled = false; });
    });
  }

  // ---- Countdown --------------------------------------------------------------------

  var secondsLeft = config.secondsLeft;
  var clock = document.getElementById("time-left");
  function formatTime(total) {
    var minutes = Math.floor(total / 60);
    var seconds = total % 60;
    return minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
  }
  if (clock && typeof secondsLeft === "number") {
    clock.textContent = formatTime(secondsLeft);
    var ticker = setInterval(function () {
      secondsLeft = Math.max(secondsLeft - 1, 0);
      clock.textContent = formatTime(secondsLeft);
      if (secondsLeft === 60) { setStatus("One minute left."); }
      if (secondsLeft === 0) {
        clearInterval(ticker);
        // The server submits at the deadline whatever happens here; this only moves
        // the learner to the result with their last answers saved.
        (dirty ? save() : Promise.resolve()).finally(function () { submitForm.submit(); });
      }
    }, 1000);
  }
}());
