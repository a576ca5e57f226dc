// The facilitator's pre-moderation queue: every idea that arrives, is edited, withdrawn or
// decided elsewhere shows here by itself. The page re-reads its server-rendered queue
// (one source of truth, the forms work without JavaScript) and keeps what the facilitator
// was doing: a reason being typed stays, and the focus stays on the same control or, when
// its idea left the queue, goes to the queue's heading.
(function () {
  "use strict";
  var live = window.MotionLive;
  var root = document.getElementById("file-moderation");
  if (!root || !live) { return; }
  var REGIONS = ["file-moderation", "non-retenues"];

  function typedReasons() {
    var kept = {};
    root.querySelectorAll("input[name=reason]").forEach(function (input) {
      if (input.value) { kept[input.id] = input.value; }
    });
    return kept;
  }

  function refresh() {
    fetch(root.dataset.contentUrl, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var focused = document.activeElement && root.contains(document.activeElement)
          ? document.activeElement.id : null;
        var reasons = typedReasons();
        var status = document.getElementById("connection");
        var statusText = status ? status.textContent : "";
        REGIONS.forEach(function (id) {
          var now = document.getElementById(id);
          var next = fresh.getElementById(id);
          if (now && next) { now.innerHTML = next.innerHTML; }
        });
        status = document.getElementById("connection");
        if (status) { status.textContent = statusText; }
        Object.keys(reasons).forEach(function (id) {
          var input = document.getElementById(id);
          if (input) { input.value = reasons[id]; }
        });
        if (focused) {
          var again = document.getElementById(focused);
          (again || document.getElementById("file-titre")).focus();
        }
        // Styles and tests can tell the queue was re-read since the page loaded.
        root.dataset.refreshed = String(Number(root.dataset.refreshed || 0) + 1);
      })
      .catch(function () { /* the next event or a reload catches up */ });
  }

  var later = live.debounce(refresh, 150);
  live.connect({
    congress: root.dataset.congress,
    audience: "facilitator",
    onSnapshot: later,
    on: {
      "moderation.queued": later,
      "moderation.decided": later,
      "contribution.updated": function (item) {
        if (item && document.getElementById("idee-" + item.id)) { later(); }
      }
    }
  });
}());
