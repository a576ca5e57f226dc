// Phone voting screen (and the facilitator's ballot list): progressive enhancement.
// Without JavaScript every vote is a plain form post. With it: the vote goes over the
// live socket (`ballot.vote`), or with fetch when the socket is down or silent, retried
// under the same idempotency key (the server applies it once); counts update live.
// Keyboard: arrows move within the choices (native radios), Enter votes.
(function () {
  "use strict";
  var app = document.getElementById("vote-app");
  if (!app) { return; }
  var congress = app.getAttribute("data-congress");
  var audience = app.getAttribute("data-audience") || "participants";
  var live = document.getElementById("vote-live");
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var LABELS = { pour: "Pour", contre: "Contre", abstention: "Abstention" };
  // The server's wording (web/votes.py STATUS_MESSAGES), for answers that come by socket.
  var STATUS = { counted: "Votre vote est enregistré.", repeat: "Votre vote est enregistré.",
    changed: "Votre vote a été modifié.", unchanged: "Votre vote est inchangé." };
  // A vote cast for someone else (procuration) is confirmed as theirs (PROXY_MESSAGES).
  var PROXY = { counted: "est enregistré.", repeat: "est enregistré.", changed: "a été modifié.",
    unchanged: "est inchangé." };
  var RETRY_DELAYS = [500, 1000, 2000, 4000, 4000, 4000];
  var SOCKET_WAIT_MS = 4000;
  var NBSP = "\u00a0";
  // What only a page with JavaScript does (it updates by itself) is said only there.
  Array.prototype.forEach.call(document.querySelectorAll(".js-only"), function (node) {
    node.hidden = false;
  });
  var busy = 0;
  var socket = null;

  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function say(node, text, kind) {
    node.textContent = text;
    node.className = node.className.replace(/\s*is-(ok|error|wait)/g, "") + (kind ? " is-" + kind : "");
  }

  function pending() {
    // A choice tapped but not yet confirmed, or a vote on its way: do not reload under it.
    if (busy > 0) { return true; }
    return Array.prototype.some.call(document.querySelectorAll("form.vote-form"), function (f) {
      var picked = f.querySelector("input[name=choice]:checked");
      return picked && !picked.defaultChecked;
    });
  }

  function refreshSoon(message) {
    if (audience === "participants" && !pending()) {
      window.location.reload();
      return;
    }
    if (!live) { return; }
    live.textContent = "";
    var text = document.createElement("span");
    text.textContent = message + " ";
    var link = document.createElement("a");
    link.href = window.location.pathname;
    link.textContent = "Actualiser la page";
    live.appendChild(text);
    live.appendChild(link);
  }

  // --- voting forms ------------------------------------------------------------------
  function setUp(form) {
    var button = form.querySelector(".vote-confirm");
    var feedback = form.querySelector(".vote-feedback");
    var keyInput = form.querySelector("input[name=key]");

    form.addEventListener("change", function (event) {
      if (event.target.name !== "choice") { return; }
      // A silent hint (the radio itself is announced): a live one would repeat each arrow.
      feedback.setAttribute("aria-live", "off");
      say(feedback, "Choix" + NBSP + ": " + LABELS[event.target.value] + ". Appuyez sur «" +
        NBSP + "Voter" + NBSP + "» pour confirmer.", "wait");
    });

    form.addEventListener("keydown", function (event) {
      // Enter on a choice votes (one submission, whatever the browser does natively).
      if (event.key !== "Enter" || event.target.name !== "choice") { return; }
      event.preventDefault();
      if (typeof form.requestSubmit === "function") {
        form.requestSubmit(button);
      } else {
        button.click();
      }
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var picked = form.querySelector("input[name=choice]:checked");
      feedback.setAttribute("aria-live", "polite");
      if (!picked) {
        say(feedback, "Choisissez Pour, Contre ou Abstention, puis appuyez sur «" + NBSP +
          "Voter" + NBSP + "».", "error");
        return;
      }
      if (button.disabled) { return; }
      button.disabled = true;
      busy += 1;
      say(feedback, "Envoi du vote…", "wait");
      sendBySocket(form, function (ok, data) {
        busy -= 1;
        button.disabled = false;
        if (!ok) {
          say(feedback, data, "error");
          return;
        }
        say(feedback, data.message, "ok");
        Array.prototype.forEach.call(form.querySelectorAll("input[name=choice]"), function (input) {
          input.defaultChecked = input.checked;
        });
        keyInput.value = newKey();  // the next change is a new request
        if (form.getAttribute("data-allow-change") !== "1") {
          var done = document.createElement("p");
          done.className = "vote-done";
          done.setAttribute("tabindex", "-1");
          done.textContent = data.message;
          form.parentNode.replaceChild(done, form);
          done.focus();
        }
      });
    });
  }

  function socketMessage(answer, form) {
    // As web/votes.py words it over HTTP (and audit.receipt_line for the chain's head).
    if (answer.message) { return answer.message; }
    var proxy = form && form.dataset.proxyName;
    var text = proxy ? "Le vote de " + proxy + " (procuration) " + (PROXY[answer.status] || PROXY.counted)
      : STATUS[answer.status] || STATUS.counted;
    if (answer.choice) { text += " Choix" + NBSP + ": " + LABELS[answer.choice] + "."; }
    text += " Reçu" + NBSP + ": " + answer.receipt + ".";
    var anchor = answer.audit;
    if (anchor && anchor.hash) {
      text += " Journal d'audit à ce vote" + NBSP + ": entrée n°" + NBSP + anchor.entry + ", " +
        anchor.entries + " entrée" + (anchor.entries > 1 ? "s" : "") + ", empreinte " +
        anchor.hash + ".";
    }
    return text;
  }

  function sendBySocket(form, done) {
    // The socket's answer, or fetch when the socket is down, silent or the server busy.
    if (!socket || !socket.connected) { send(form, 0, done); return; }
    var payload = { ballot: parseInt(form.getAttribute("data-ballot"), 10),
      choice: form.querySelector("input[name=choice]:checked").value,
      key: form.querySelector("input[name=key]").value };
    var giver = form.querySelector("input[name=for]");
    if (giver) { payload["for"] = parseInt(giver.value, 10); }
    socket.timeout(SOCKET_WAIT_MS).emit("ballot.vote", payload, function (error, answer) {
      if (error || !answer || answer.code === "retry") { send(form, 0, done); return; }
      if (!answer.ok) { done(false, answer.error || "Vote refusé."); return; }
      answer.message = socketMessage(answer, form);
      done(true, answer);
    });
  }

  function send(form, attempt, done) {
    var feedback = form.querySelector(".vote-feedback");
    var body = new URLSearchParams(new FormData(form));
    fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrf }
    }).then(function (response) {
      if (response.status >= 500) { throw new Error("server " + response.status); }
      return response.json().then(function (data) {
        if (data && data.ok) { done(true, data); return; }
        if (response.status === 400) {
          done(false, "Votre session a expiré : rechargez la page puis votez de nouveau.");
          return;
        }
        done(false, (data && data.error) || "Vote refusé.");
      }, function () {
        done(false, "Réponse illisible du serveur : rechargez la page.");
      });
    }).catch(function () {
      if (attempt >= RETRY_DELAYS.length) {
        done(false, "Vote non confirmé : vérifiez votre connexion puis appuyez de nouveau " +
          "sur Confirmer (il ne sera pas compté deux fois).");
        return;
      }
      say(feedback, "Connexion instable : nouvel essai… (" + (attempt + 1) + ")", "wait");
      window.setTimeout(function () { send(form, attempt + 1, done); }, RETRY_DELAYS[attempt]);
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("form.vote-form"), setUp);

  // --- live counts -----------------------------------------------------------------------
  // The word after a live number agrees with it, as the server's `plural` does (« 1 vote
  // sur 1 votant·e », « 2 votes sur 3 votant·es »): the text node right after the number.
  function agree(node, n, one, many, rest) {
    var after = node.nextSibling;
    if (after && after.nodeType === 3) { after.textContent = " " + (n > 1 ? many : one) + rest; }
  }

  function setCount(id, cast, eligible) {
    Array.prototype.forEach.call(document.querySelectorAll('[data-cast-for="' + id + '"]'),
      function (node) {
        node.textContent = String(cast);
        agree(node, cast, "vote", "votes", " sur ");
      });
    Array.prototype.forEach.call(document.querySelectorAll('[data-eligible-for="' + id + '"]'),
      function (node) {
        node.textContent = String(eligible);
        agree(node, eligible, "votant·e", "votant·es", "");
      });
  }

  // Presence, quorum and progress (the server words them: ballots.live_progress).
  function setProgress(p) {
    setCount(p.ballot, p.cast, p.eligible);
    var box = document.querySelector('[data-progress-for="' + p.ballot + '"]');
    if (!box || !p.texts) { return; }
    ["presence", "quorum", "progress"].forEach(function (name) {
      var node = box.querySelector('[data-progress-text="' + name + '"]');
      if (node && node.textContent !== p.texts[name]) { node.textContent = p.texts[name]; }
    });
    var quorum = box.querySelector(".vote-quorum");
    if (quorum) {
      quorum.classList.toggle("vote-quorum-met", !!p.quorum_met);
      quorum.classList.toggle("vote-quorum-unmet", !p.quorum_met);
    }
    var meter = box.querySelector("[role=progressbar]");
    if (meter) {
      meter.setAttribute("aria-valuenow", String(p.percent));
      meter.setAttribute("aria-valuetext", p.texts.progress);
    }
    var fill = box.querySelector(".vote-meter-fill");
    if (fill) { fill.setAttribute("width", String(Math.max(0, Math.min(100, p.percent)))); }
  }

  function openIdsOnPage() {
    var ids = {};
    Array.prototype.forEach.call(document.querySelectorAll("[data-cast-for], [data-progress-for]"),
      function (node) {
        ids[node.getAttribute("data-cast-for") || node.getAttribute("data-progress-for")] = true;
      });
    return Object.keys(ids).sort().join(",");
  }

  if (typeof window.io !== "function" || !congress) { return; }
  socket = window.io({ auth: { congress: congress, audience: audience },
    transports: ["websocket", "polling"] });
  socket.on("disconnect", function () { app.removeAttribute("data-live"); });
  socket.on("connect", function () {
    app.setAttribute("data-live", "1");  // votes now go over the socket
    // (Re)connected: catch up with anything missed while offline.
    socket.emit("ballot.state", {}, function (answer) {
      if (!answer || !answer.ok) { return; }
      var open = [];
      answer.ballots.forEach(function (b) {
        if (b.state === "open") { open.push(String(b.id)); setProgress(Object.assign({ ballot: b.id }, b)); }
      });
      if (open.sort().join(",") !== openIdsOnPage()) {
        refreshSoon("La liste des scrutins ouverts a changé.");
      }
    });
  });
  socket.on("ballot.progress", function (p) {
    if (p && p.state === "open") { setProgress(p); }
  });
  socket.on("ballot.opened", function (b) {
    refreshSoon("Un scrutin vient d'ouvrir : « " + b.title + " ».");
  });
  socket.on("ballot.closed", function (b) {
    refreshSoon("Le scrutin « " + b.title + " » est clos.");
  });
  // Sent to this person's sockets only: the facilitator accepted their registration or
  // marked their presence, so what they may vote changed.
  socket.on("voter.changed", function () {
    refreshSoon("L'équipe d'animation a mis à jour votre inscription ou votre présence.");
  });
})();
