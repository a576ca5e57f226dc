// An official's congress page: « Voter maintenant » appears by itself when a ballot opens
// (and goes when none is open), so nobody in the room has to reload or type a URL.
(function () {
  "use strict";
  var live = window.MotionLive;
  var root = document.getElementById("maintenant");
  var banner = document.getElementById("voter-maintenant");
  // In the vote phase, before a ballot opens: the way to declare one's presence.
  var waiting = document.getElementById("espace-vote");
  if (!root || !banner || !live) { return; }
  var socket = null;

  function refresh() {
    live.send(socket, "ballot.state", {}).then(function (ack) {
      if (!ack || !ack.ok) { return; }
      show(ack.ballots.some(function (b) { return b.state === "open"; }));
    });
  }

  function show(open) {
    banner.hidden = !open;
    if (waiting) { waiting.hidden = open; }
  }

  function moderated(item) {
    var line = item && document.getElementById("moderation-" + item.id);
    if (!line) { return; }
    line.dataset.moderation = item.status;
    line.textContent = "";
    var strong = document.createElement("strong");
    strong.textContent = item.status === "visible" ? "Approuvée par l'animation" : "Non retenue par l'animation";
    line.appendChild(strong);
    line.appendChild(document.createTextNode(item.status === "visible"
      ? "\u00a0: votre idée est affichée."
      : (item.reason ? "\u00a0: " + item.reason : "")));
    line.setAttribute("role", "status");
    // A rejected idea can no longer be edited (it may still be withdrawn).
    var edit = item.status === "rejected" && line.parentNode.querySelector("a[href$='/modifier']");
    if (edit) { edit.remove(); }
  }

  socket = live.connect({
    congress: root.dataset.congress,
    audience: "participants",
    status: document.createElement("span"),
    onSnapshot: refresh,
    on: {
      "ballot.opened": function () { show(true); },
      "ballot.closed": refresh,
      // Pre-moderation: the facilitator decided on one of my ideas (only its author hears).
      "contribution.moderated": moderated
    }
  });
}());
