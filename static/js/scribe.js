// Scribe: keyboard-only fast capture. Speaker (registered officials suggested by the
// datalist, or free text with commune), text, Enter: the idea goes over Socket.IO
// (`scribe.capture`, idempotency key, retried with the same key), the guessed theme is
// shown, and ONE key confirms it (Entrée) or corrects it (1–8, 0 = hors thème).
// Without a live connection the form posts over HTTP as it does without JavaScript.
(function () {
  "use strict";
  var live = window.MotionLive;
  var form = document.getElementById("capture-form");
  if (!form || !live) { return; }
  var speaker = document.getElementById("speaker");
  var commune = document.getElementById("commune");
  var text = document.getElementById("text");
  var pid = document.getElementById("participant_id");
  var guess = document.getElementById("guess");
  var guessLine = document.getElementById("guess-line");
  var recent = document.getElementById("recent");
  var themes = JSON.parse(form.dataset.themes || "[]");  // [[code, label], ...], hors thème last
  var labels = {};
  themes.forEach(function (t) { labels[t[0]] = t[1]; });
  var known = {};
  Array.prototype.forEach.call(document.querySelectorAll("#speakers option"), function (o) {
    known[o.value] = { id: o.dataset.id, commune: o.dataset.commune || "" };
  });
  var last = null;  // the idea just captured: {id, theme, text}
  var sending = false;

  var errorBox = document.createElement("div");
  errorBox.className = "error-box";
  errorBox.setAttribute("role", "alert");
  errorBox.hidden = true;
  form.insertBefore(errorBox, form.firstChild);

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
    text.setAttribute("aria-invalid", message ? "true" : "false");
  }

  // A registered official picked from the suggestions: their id and commune come along.
  // A commune filled that way goes when the name no longer is that official's (the next,
  // unregistered speaker inherited « Lauzerte »); a commune typed by hand stays.
  var filledCommune = null;
  speaker.addEventListener("input", function () {
    var hit = known[speaker.value];
    pid.value = hit ? hit.id : "";
    if (hit) {
      commune.value = hit.commune;
      filledCommune = hit.commune;
    } else if (filledCommune !== null && commune.value === filledCommune) {
      commune.value = "";
      filledCommune = null;
    }
  });

  text.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });

  function themeText(code, confidence) {
    var label = code ? (labels[code] || code) : "non classée";
    return confidence !== null && confidence !== undefined
      ? label + " (confiance " + Math.round(confidence * 100) + " %)" : label;
  }

  function showGuess(message) {
    guessLine.textContent = message;
    guess.hidden = false;
  }

  function addRecent(ack) {
    var empty = recent.querySelector(".recent-empty");
    if (empty) { empty.remove(); }
    var li = document.createElement("li");
    li.className = "idea";
    li.dataset.id = ack.id;
    var p = document.createElement("p");
    p.className = "idea-text";
    var num = document.createElement("span");
    num.className = "idea-num";
    num.textContent = "n° " + ack.id;
    p.appendChild(num);
    p.appendChild(document.createTextNode(" " + ack.text));
    var meta = document.createElement("p");
    meta.className = "idea-meta";
    meta.appendChild(document.createTextNode(ack.speaker + (ack.commune ? ", " + ack.commune : "") + " · thème : "));
    var strong = document.createElement("strong");
    strong.dataset.themeLabel = "";
    strong.textContent = ack.theme_label;
    meta.appendChild(strong);
    li.appendChild(p);
    li.appendChild(meta);
    recent.insertBefore(li, recent.firstChild);
    while (recent.children.length > 12) { recent.removeChild(recent.lastChild); }
  }

  function setRecentTheme(id, label, code) {
    var strong = recent.querySelector('li[data-id="' + id + '"] [data-theme-label]');
    if (strong) { strong.textContent = label; }
    var select = document.getElementById("fix-" + id);
    if (select && code) { select.value = code; }
  }

  form.addEventListener("submit", function (e) {
    if (!socket || !socket.connected) { return; }  // plain HTTP post
    e.preventDefault();
    if (sending) { return; }
    if (!text.value.trim()) { showError("Le texte de l'idée est vide : écrivez au moins quelques mots."); text.focus(); return; }
    var data = { speaker: speaker.value, commune: commune.value, text: text.value };
    if (pid.value) { data.participant_id = pid.value; }
    sending = true;
    live.send(socket, "scribe.capture", data).then(function (ack) {
      sending = false;
      if (!ack.ok) { showError(ack.error); text.focus(); return; }
      showError("");
      text.value = "";
      last = { id: ack.id, theme: ack.theme };
      addRecent(ack);
      showGuess("Idée n° " + ack.id + " enregistrée. Thème deviné : " +
                themeText(ack.theme, ack.confidence) + ".");
      guess.focus();
    });
  });

  function next(field) {
    field.focus();
    if (field.select) { field.select(); }
  }

  function correct(code) {
    var idea = last;
    live.send(socket, "contribution.move", { id: idea.id, theme: code }).then(function (ack) {
      if (!ack.ok) { showGuess("Correction refusée : " + ack.error); return; }
      showGuess("Idée n° " + idea.id + " : thème corrigé en « " + labels[code] + " ».");
      setRecentTheme(idea.id, labels[code] + " (corrigé)", code);
    });
  }

  function confirm() {
    var idea = last;
    live.send(socket, "contribution.confirm", { id: idea.id }).then(function (ack) {
      showGuess(ack.ok ? "Idée n° " + idea.id + " : thème « " + themeText(idea.theme) + " » confirmé."
        : "Confirmation refusée : " + ack.error);
      if (ack.ok) { setRecentTheme(idea.id, themeText(idea.theme) + " (confirmé)"); }
    });
  }

  // One key on the guess panel: Entrée confirms, a digit corrects, Tab goes back to the
  // text (same speaker), Échap too; any other character starts the next speaker's name.
  guess.addEventListener("keydown", function (e) {
    if (!last || e.ctrlKey || e.metaKey || e.altKey) { return; }
    var key = e.key;
    if (key === "Enter") {
      e.preventDefault();
      if (last.theme) { confirm(); } else { showGuess("Pas de thème à confirmer : tapez un chiffre."); return; }
      next(speaker);
    } else if (/^[0-9]$/.test(key)) {
      e.preventDefault();
      var n = Number(key);
      var code = n === 0 ? "hors_theme" : (themes[n - 1] && themes[n - 1][0] !== "hors_theme" ? themes[n - 1][0] : null);
      if (!code) { showGuess("Pas de thème n° " + n + "."); return; }
      correct(code);
      next(speaker);
    } else if (key === "Tab" && !e.shiftKey || key === "Escape") {
      e.preventDefault();
      text.focus();
    } else if (key.length === 1) {
      next(speaker);  // the character lands in the (selected, so replaced) speaker field
    }
  });

  // The "Corriger" forms of the recent list, over the socket when connected.
  recent.addEventListener("submit", function (e) {
    var f = e.target;
    if (!socket || !socket.connected) { return; }
    e.preventDefault();
    var id = f.querySelector('input[name="id"]').value;
    var code = f.querySelector("select").value;
    live.send(socket, "contribution.move", { id: id, theme: code }).then(function (ack) {
      if (ack.ok) { setRecentTheme(id, labels[code] + " (corrigé)", code); } else { showGuess(ack.error); }
    });
  });

  var socket = live.connect({
    congress: form.dataset.congress,
    audience: "facilitator",
    on: {
      "contribution.updated": function (c) {
        if (c.theme !== undefined && labels[c.theme]) {
          setRecentTheme(c.id, labels[c.theme] + (c.confirmed ? " (confirmé)" : ""), c.theme);
        }
      }
    }
  });
})();
