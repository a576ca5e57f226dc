// Progressive enhancement of the contribution form: a live character count.
// (The form works without JavaScript; similar-idea suggestions arrive with the live debate.)
(function () {
  "use strict";
  var area = document.getElementById("text");
  var hint = document.getElementById("text-aide");
  if (!area || !hint) { return; }
  var base = hint.textContent;
  function update() {
    var left = 2000 - area.value.length;
    hint.textContent = base + " Reste : " + left + " caractères.";
  }
  area.addEventListener("input", update);
})();
