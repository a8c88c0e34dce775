// The candidate report's Print button (the page's print styles hide the site chrome).
(function () {
  "use strict";
  var button = document.getElementById("print-report");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
})();
