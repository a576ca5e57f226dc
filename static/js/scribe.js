// Scribe: keyboard-only fast capture. Speaker (registered officials suggested by the
// datalist, or free text with commune), text, Enter: the idea goes over Socket.IO
// (`scribe.capture`, idempotency key, retried with the same key), the guessed theme is
// shown, and ONE key confirms it (Entrée) or corrects it (1–8, 0 = hors thème). Each
// recent idea has « Corriger » for its text and speaker (`contribution.correct`).
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
  // The same for the speaker of a correction (« Corriger »).
  function linkSpeaker(nameInput, communeInput, idInput) {
    var filledCommune = null;
    nameInput.addEventListener("input", function () {
      var hit = known[nameInput.value];
      idInput.value = hit ? hit.id : "";
      if (hit) {
        communeInput.value = hit.commune;
        filledCommune = hit.commune;
      } else if (filledCommune !== null && communeInput.value === filledCommune) {
        communeInput.value = "";
        filledCommune = null;
      }
    });
  }
  linkSpeaker(speaker, commune, pid);

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

  // A new capture joins the recent list as the server renders it (the <template> made by
  // the same macro), with its theme select and its « Corriger » form.
  var template = document.getElementById("recent-template");
  function addRecent(ack) {
    var empty = recent.querySelector(".recent-empty");
    if (empty) { empty.remove(); }
    var holder = document.createElement("ol");
    holder.innerHTML = template.innerHTML.replace(/__ID__/g, String(Number(ack.id)));
    var li = holder.firstElementChild;
    // Each form its own idempotency key (the template's is the same for every clone).
    Array.prototype.forEach.call(li.querySelectorAll('input[name="key"]'), function (input) {
      input.value = live.key();
    });
    showIdea(li, ack);
    var edit = li.querySelector(".correct-form");
    edit.querySelector('[name="speaker"]').value = ack.speaker || "";
    edit.querySelector('[name="commune"]').value = ack.commune || "";
    edit.querySelector('[name="text"]').value = ack.text || "";
    li.querySelector("[data-theme-label]").textContent = ack.theme_label;
    var select = li.querySelector("select");
    if (select && ack.theme) { select.value = ack.theme; }
    setUpCorrection(edit);
    recent.insertBefore(li, recent.firstChild);
    while (recent.children.length > 12) { recent.removeChild(recent.lastChild); }
  }

  // What the list shows of an idea: its text (an excerpt) and who said it.
  function showIdea(li, idea) {
    var words = idea.text || "";
    li.querySelector("[data-idea-text]").textContent =
      words.length > 200 ? words.slice(0, 199) + "…" : words;
    li.querySelector("[data-idea-who]").textContent =
      (idea.speaker || "") + (idea.commune ? ", " + idea.commune : "");
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

  // « Corriger » on a captured idea: its text, speaker and commune. Opening it puts the
  // focus in the text; Entrée saves, Échap closes it (nothing sent); a refusal keeps
  // what was typed, says why in French and puts the focus back on the field.
  var recentStatus = document.getElementById("recent-status");
  function setUpCorrection(f) {
    var details = f.closest("details");
    var textArea = f.querySelector('[name="text"]');
    linkSpeaker(f.querySelector('[name="speaker"]'), f.querySelector('[name="commune"]'),
                f.querySelector('[name="participant_id"]'));
    details.addEventListener("toggle", function () {
      if (details.open) { textArea.focus(); }
    });
    f.addEventListener("keydown", function (e) {
      if (e.key === "Escape") {
        e.preventDefault();
        details.open = false;
        details.querySelector("summary").focus();
      } else if (e.key === "Enter" && e.target === textArea && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        f.requestSubmit();
      }
    });
  }
  Array.prototype.forEach.call(recent.querySelectorAll(".correct-form"), setUpCorrection);

  function correctionError(f, message) {
    var box = f.querySelector(".error-box");
    box.textContent = message;
    box.hidden = !message;
    var field = /orateur/i.test(message) ? f.querySelector('[name="speaker"]')
      : /commune/i.test(message) ? f.querySelector('[name="commune"]')
        : f.querySelector('[name="text"]');
    Array.prototype.forEach.call(f.querySelectorAll("input:not([type=hidden]), textarea"),
      function (input) {
        if (message && input === field) {
          input.setAttribute("aria-invalid", "true");
        } else {
          input.removeAttribute("aria-invalid");
        }
      });
    if (message) { field.focus(); }
  }

  function sendCorrection(f) {
    var id = f.dataset.id;
    var data = { id: Number(id), text: f.querySelector('[name="text"]').value,
      speaker: f.querySelector('[name="speaker"]').value,
      commune: f.querySelector('[name="commune"]').value };
    var who = f.querySelector('[name="participant_id"]').value;
    if (who) { data.participant_id = who; }
    var button = f.querySelector('button[type="submit"]');
    button.disabled = true;
    live.send(socket, "contribution.correct", data).then(function (ack) {
      button.disabled = false;
      if (!ack.ok) { correctionError(f, ack.error); return; }
      correctionError(f, "");
      var li = f.closest("li");
      showIdea(li, ack);
      f.querySelector('[name="text"]').value = ack.text;
      var details = f.closest("details");
      details.open = false;
      details.querySelector("summary").focus();
      recentStatus.textContent = ack.changed && ack.changed.length
        ? "Idée n° " + id + " corrigée." : "Idée n° " + id + " : rien n'a changé.";
    });
  }

  // The forms of the recent list (theme, « Corriger »), over the socket when connected.
  recent.addEventListener("submit", function (e) {
    var f = e.target;
    if (!socket || !socket.connected) { return; }
    e.preventDefault();
    if (f.classList.contains("correct-form")) { sendCorrection(f); return; }
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
        // A correction made elsewhere (another scribe, the facilitator): the list follows.
        var li = recent.querySelector('li[data-id="' + c.id + '"]');
        if (li && c.change === "edited" && typeof c.text === "string") { showIdea(li, c); }
      }
    }
  });
})();
