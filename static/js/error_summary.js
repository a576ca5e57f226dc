// After a refused submit, the page comes back with the error summary at the top
// (templates/_errors.html): move the focus there, so a keyboard or screen-reader user hears
// every error at once and follows its link to the field (RGAA 11.10 and 11.11).
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }
})();
