// An official's congress page: « Voter maintenant » appears by itself when a ballot opens
// (and goes when none is open), so nobody in the room has to reload or type a URL.
(function () {
  "use strict";
  var live = window.MotionLive;
  var root = document.getElementById("maintenant");
  var banner = document.getElementById("voter-maintenant");
  if (!root || !banner || !live) { return; }
  var socket = null;

  function refresh() {
    live.send(socket, "ballot.state", {}).then(function (ack) {
      if (!ack || !ack.ok) { return; }
      banner.hidden = !ack.ballots.some(function (b) { return b.state === "open"; });
    });
  }

  socket = live.connect({
    congress: root.dataset.congress,
    audience: "participants",
    status: document.createElement("span"),
    onSnapshot: refresh,
    on: {
      "ballot.opened": function () { banner.hidden = false; },
      "ballot.closed": refresh
    }
  });
}());
