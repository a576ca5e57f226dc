// Shared Socket.IO helper for the live screens (projector, board, scribe, live board).
// - connect(): joins the congress's room for one audience; the server answers every
//   (re)connection with a full "snapshot", so nothing is lost to a dropped connection.
// - send(): emits a client action with an idempotency key and retries with the SAME key
//   when no answer comes back: the server applies it once and repeats its first answer.
(function () {
  "use strict";

  function key() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function connect(options) {
    var status = options.status || document.getElementById("connection");
    function say(text) {
      if (status) { status.textContent = text; }
    }
    if (typeof window.io !== "function") {
      say("Mise à jour en direct indisponible : rechargez la page.");
      return null;
    }
    var socket = window.io({
      auth: { congress: options.congress, audience: options.audience || "participants" },
      reconnectionDelayMax: 5000
    });
    // body[data-live] tells styles and tests whether updates are flowing.
    socket.on("connect", function () { say(""); document.body.dataset.live = "on"; });
    socket.on("disconnect", function () {
      document.body.dataset.live = "off";
      say("Connexion perdue : reconnexion en cours…");
    });
    socket.on("connect_error", function () { say("Connexion impossible : nouvel essai en cours…"); });
    if (options.onSnapshot) { socket.on("snapshot", options.onSnapshot); }
    var handlers = options.on || {};
    Object.keys(handlers).forEach(function (name) { socket.on(name, handlers[name]); });
    return socket;
  }

  function send(socket, event, data, tries) {
    var payload = Object.assign({ key: key() }, data || {});
    var left = tries || 4;
    return new Promise(function (resolve) {
      function attempt() {
        left -= 1;
        if (!socket) {
          resolve({ ok: false, error: "Connexion en direct indisponible : rechargez la page." });
          return;
        }
        socket.timeout(6000).emit(event, payload, function (err, ack) {
          if (!err && ack) { resolve(ack); return; }
          if (left > 0) { window.setTimeout(attempt, 500); return; }
          resolve({ ok: false, error: "Le serveur ne répond pas : vérifiez la connexion puis réessayez." });
        });
      }
      attempt();
    });
  }

  // POST a form-encoded action over HTTP (fallback when there is no live connection).
  function post(url, fields) {
    var body = new URLSearchParams();
    Object.keys(fields).forEach(function (name) {
      var value = fields[name];
      if (Array.isArray(value)) {
        value.forEach(function (v) { body.append(name, v); });
      } else if (value !== undefined && value !== null) {
        body.append(name, value);
      }
    });
    return fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() }
    }).then(function (r) { return r.json(); }).catch(function () {
      return { ok: false, error: "Le serveur ne répond pas : vérifiez la connexion puis réessayez." };
    });
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments;
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { fn.apply(null, args); }, ms);
    };
  }

  window.MotionLive = { connect: connect, send: send, post: post, key: key,
                        csrfToken: csrfToken, debounce: debounce };
})();
