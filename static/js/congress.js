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

  socket = live.connect({
    congress: root.dataset.congress,
    audience: "participants",
    status: document.createElement("span"),
    onSnapshot: refresh,
    on: {
      "ballot.opened": function () { show(true); },
      "ballot.closed": refresh
    }
  });
}());
