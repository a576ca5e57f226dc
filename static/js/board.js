// Facilitator board: drag and drop (SortableJS) and a keyboard alternative (the
// « Corriger une idée » panel) to correct the sorting; by keyboard each theme is one tab
// stop with a roving tabindex among its ideas (arrows, Home, End; Enter or Space opens the
// idea's actions), so 500 ideas are not 1,000 presses of Tab; every correction goes over
// Socket.IO with an idempotency key (HTTP when the socket is down), and the board
// re-fetches its server-rendered content after every change it hears about.
(function () {
  "use strict";
  var live = window.MotionLive;
  var root = document.getElementById("board");
  if (!root || !live) { return; }
  var contentUrl = root.dataset.contentUrl;
  var actionUrl = root.dataset.actionUrl;
  var panel = document.getElementById("corriger");
  var panelForm = document.getElementById("correction-form");
  var projectorForm = document.getElementById("projector-form");
  var feedback = document.getElementById("board-feedback");
  var dragging = false;
  var pending = false;
  var firstSnapshot = true;
  var sortables = [];
  var socket = null;
  var SKIP = { csrf_token: true, key: true, action: true, next: true };
  var LISTS = { from: true, ids: true };

  function say(text, ok) {
    feedback.textContent = text;
    feedback.className = "feedback " + (ok ? "is-ok" : "is-error");
  }

  function formData(form) {
    var data = {};
    new FormData(form).forEach(function (value, name) {
      if (SKIP[name] || value === "") { return; }
      if (LISTS[name]) { (data[name] = data[name] || []).push(value); } else { data[name] = value; }
    });
    if (data.target) {
      var parts = data.target.split(":");
      if (parts[0] === "theme") { data.theme = parts.slice(1).join(":"); }
      if (parts[0] === "point") { data.cluster = parts.slice(1).join(":"); }
      delete data.target;
    }
    return data;
  }

  // Send one action: over the socket when connected, else as an HTTP POST (same checks).
  function act(action, data) {
    if (socket && socket.connected) { return live.send(socket, action, data); }
    var fields = Object.assign({ action: action, key: live.key() }, data);
    return live.post(actionUrl, fields);
  }

  function done(ack, success) {
    if (ack && ack.ok) {
      say(success || "C'est fait.", true);
      refresh();
    } else {
      say((ack && ack.error) || "L'action n'a pas abouti.", false);
      refresh();
    }
    return ack;
  }

  // -- re-rendering the live part -----------------------------------------------------------

  function focusKey() {
    var el = document.activeElement;
    if (!el || !root.contains(el)) { return null; }
    if (el.dataset && el.dataset.correct) { return { correct: el.dataset.correct }; }
    return el.id ? { id: el.id } : null;
  }

  function restoreFocus(key) {
    if (!key) { return; }
    var el = key.correct ? root.querySelector('[data-correct="' + key.correct + '"]')
      : document.getElementById(key.id);
    if (el) { el.focus(); }
  }

  function busy() {
    var el = document.activeElement;
    return el && root.contains(el) && /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName);
  }

  // At most one re-render per 300 ms however many events arrive (never starved).
  var timer = null;
  function refresh() {
    if (timer === null) { timer = window.setTimeout(function () { timer = null; reload(); }, 300); }
  }

  function reload() {
    if (dragging || busy()) { pending = true; return; }
    pending = false;
    fetch(contentUrl, { credentials: "same-origin", cache: "no-store",
                        headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        if (dragging || busy()) { pending = true; return; }
        var key = focusKey();
        root.innerHTML = html;
        enhance();
        restoreFocus(key);
      })
      .catch(function () { /* the next event or reconnection refreshes again */ });
  }

  root.addEventListener("focusout", function () {
    window.setTimeout(function () { if (pending && !busy()) { refresh(); } }, 50);
  });

  function copyTargets() {
    var fresh = document.getElementById("targets-fresh");
    var select = document.getElementById("correction-target");
    if (!fresh || !select) { return; }
    var chosen = select.value;
    select.innerHTML = fresh.content.querySelector("select").innerHTML;
    if (chosen) { select.value = chosen; }
    if (!select.value && select.options.length) { select.selectedIndex = 0; }
  }

  function enhance() {
    Array.prototype.forEach.call(root.querySelectorAll("[data-correct]"), function (b) {
      b.hidden = false;
    });
    rove();
    copyTargets();
    sortables.forEach(function (s) { s.destroy(); });
    sortables = [];
    if (typeof window.Sortable !== "function") { return; }
    Array.prototype.forEach.call(root.querySelectorAll("ul.ideas[data-theme]"), function (list) {
      sortables.push(window.Sortable.create(list, {
        group: { name: "ideas", pull: true, put: list.dataset.theme !== "" },
        animation: 150,
        filter: "button, input, label, select, summary",
        preventOnFilter: false,
        delayOnTouchOnly: true,
        delay: 200,
        ghostClass: "idea-ghost",
        forceFallback: true,  // mouse and touch events, the same on every browser
        fallbackTolerance: 4,
        onStart: function () { dragging = true; },
        onEnd: function (evt) {
          dragging = false;
          if (evt.from === evt.to) {
            if (pending) { refresh(); }
            return;
          }
          var data = { id: evt.item.dataset.id };
          if (evt.to.dataset.cluster) { data.cluster = evt.to.dataset.cluster; } else { data.theme = evt.to.dataset.theme; }
          act("contribution.move", data).then(function (ack) {
            done(ack, "Idée n° " + data.id + " déplacée.");
          });
        }
      }));
    });
  }

  // -- the keyboard: one tab stop per section, arrows among its items ----------------------------
  // A section (« À vérifier », each theme) is one composite: its items are its ideas and the
  // « Renommer, fusionner ou séparer » of each of its points, in reading order; only one item
  // (the last one used) is in the tab order, with its own buttons and checkbox.

  var GROUPS = ".board-review, .board-theme";
  var ITEMS = "li.idea, .point-tools > summary";
  var activeItem = {};  // section id -> id of its item in the tab order (kept across refreshes)
  var lastIdea = null;  // the idea whose actions the panel shows, to come back to it

  function itemsOf(group) { return Array.prototype.slice.call(group.querySelectorAll(ITEMS)); }

  function activate(group, item) {
    itemsOf(group).forEach(function (it) {
      var on = it === item;
      it.tabIndex = on ? 0 : -1;
      if (it.tagName === "LI") {
        Array.prototype.forEach.call(it.querySelectorAll("button, input, select, a"), function (c) {
          c.tabIndex = on ? 0 : -1;
        });
      }
    });
    activeItem[group.id] = item.id;
  }

  function rove() {
    Array.prototype.forEach.call(root.querySelectorAll(GROUPS), function (group) {
      var items = itemsOf(group);
      if (!items.length) { return; }
      var kept = activeItem[group.id] && document.getElementById(activeItem[group.id]);
      var firstIdea = items.filter(function (it) { return it.tagName === "LI"; })[0];
      activate(group, kept && group.contains(kept) ? kept : firstIdea || items[0]);
    });
  }

  function itemAt(target) {
    var item = target.closest && target.closest(ITEMS);
    var group = item && item.closest(GROUPS);
    return group && root.contains(group) ? { item: item, group: group } : null;
  }

  root.addEventListener("focusin", function (e) {
    var found = itemAt(e.target);
    if (found) { activate(found.group, found.item); }
  });

  root.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) { return; }
    var found = itemAt(e.target);
    if (!found || found.item !== e.target) { return; }  // keys inside an idea's buttons: theirs
    var items = itemsOf(found.group);
    var i = items.indexOf(found.item);
    var next = null;
    if (e.key === "ArrowDown" || e.key === "ArrowRight") { next = items[Math.min(i + 1, items.length - 1)]; }
    else if (e.key === "ArrowUp" || e.key === "ArrowLeft") { next = items[Math.max(i - 1, 0)]; }
    else if (e.key === "Home") { next = items[0]; }
    else if (e.key === "End") { next = items[items.length - 1]; }
    else if ((e.key === "Enter" || e.key === " ") && found.item.tagName === "LI") {
      e.preventDefault();
      openActions(found.item.dataset.id, found.item);
      return;
    } else { return; }
    e.preventDefault();
    activate(found.group, next);
    next.focus();
  });

  // -- the keyboard alternative: the correction panel -----------------------------------------

  function showFields() {
    var action = document.getElementById("correction-action").value;
    Array.prototype.forEach.call(panelForm.querySelectorAll("[data-for]"), function (f) {
      f.hidden = f.dataset.for !== action;
    });
  }

  function describe(id) {
    var item = root.querySelector('.idea[data-id="' + id + '"] .idea-text');
    document.getElementById("correction-text").textContent = item ? item.textContent.trim() : "";
  }

  function openActions(id, idea) {
    lastIdea = idea && idea.id ? idea.id : null;
    document.getElementById("correction-id").value = id;
    describe(id);
    panel.scrollIntoView({ block: "nearest" });
    document.getElementById("correction-action").focus();
  }

  function backToIdea(id) {
    var idea = (lastIdea && document.getElementById(lastIdea)) ||
      document.getElementById("idee-" + id) || root.querySelector('li.idea[data-id="' + id + '"]');
    if (idea) { idea.focus(); }
  }

  root.addEventListener("click", function (e) {
    var button = e.target.closest("[data-correct]");
    if (!button) { return; }
    openActions(button.dataset.correct, button.closest("li.idea"));
  });

  // Échap, anywhere in the panel, goes back to the idea it was opened from.
  panel.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") { return; }
    var id = document.getElementById("correction-id").value;
    if (id) { e.preventDefault(); backToIdea(id); }
  });

  document.getElementById("correction-action").addEventListener("change", showFields);
  document.getElementById("correction-id").addEventListener("change", function (e) {
    describe(e.target.value);
  });

  panelForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var data = formData(panelForm);
    var action = document.getElementById("correction-action").value;
    var id = data.id;
    var send = { id: id };
    if (action === "contribution.move") {
      if (data.theme) { send.theme = data.theme; }
      if (data.cluster) { send.cluster = data.cluster; }
    } else if (action === "contribution.duplicate") {
      send.of = data.of;
    }
    act(action, send).then(function (ack) {
      done(ack, "Idée n° " + id + " : c'est fait.");
      if (ack && ack.ok) {
        // Back to the corrected idea once the board is re-rendered.
        window.setTimeout(function () { backToIdea(id); }, 900);
      }
    });
  });

  // Forms inside the board (confirm, rename, merge, split, duplicates, unhide, grain).
  root.addEventListener("submit", function (e) {
    var form = e.target;
    var action = form.dataset.action;
    if (!action) { return; }
    e.preventDefault();
    act(action, formData(form)).then(function (ack) {
      // The grain is stored at once; the regrouped points follow with the refit.
      done(ack, action === "theme.granularity" && ack && ack.ok ?
        ack.label + ". Les points du thème se regroupent\u00a0: le tableau suit dans quelques secondes." :
        undefined);
    });
  });

  // -- the projector's mode -----------------------------------------------------------------

  projectorForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var data = formData(projectorForm);
    var out = projectorForm.querySelector("[data-feedback]");
    act("projector.mode", data).then(function (ack) {
      out.textContent = ack && ack.ok ? "Le projecteur affiche : " + ack.label +
        (ack.theme_label ? " — " + ack.theme_label : "") + "." : (ack && ack.error) || "Échec.";
    });
  });

  function showMode(m) {
    Array.prototype.forEach.call(projectorForm.querySelectorAll('input[name="mode"]'), function (r) {
      r.checked = r.value === m.mode;
    });
    document.getElementById("projector-theme").value = m.theme || "";
  }

  socket = live.connect({
    congress: root.dataset.congress,
    audience: "facilitator",
    onSnapshot: function (s) {
      if (s && s.projector) { showMode(s.projector); }
      if (firstSnapshot) { firstSnapshot = false; return; }
      refresh();  // reconnected: whatever happened meanwhile is on the server
    },
    on: {
      "contribution.created": refresh,
      "contribution.updated": refresh,
      "points.updated": refresh,
      "projector.mode": showMode
    }
  });
  showFields();
  enhance();
})();
