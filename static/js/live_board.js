// An official's live board on the phone: read-only counts and latest ideas kept up to
// date over Socket.IO (small payloads only), "+1" on an existing idea, and — while
// writing a new idea — the similar ideas already there, to support one instead.
(function () {
  "use strict";
  var live = window.MotionLive;
  var root = document.getElementById("live-board");
  if (!root || !live) { return; }
  var labels = JSON.parse(root.dataset.labels || "{}");
  var canSupport = root.dataset.canSupport === "1";
  // Ideas this official already supports: never offered « +1 » again, wherever they show.
  var supportedIds = {};
  JSON.parse(root.dataset.supported || "[]").forEach(function (id) { supportedIds[id] = true; });
  var supportUrl = root.dataset.supportUrl;  // ends with /0: the id goes there
  var latest = document.getElementById("latest");
  var MAX = 30;
  var firstSnapshot = true;
  var socket = null;

  function el(tag, cls, content) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (content !== undefined) { node.textContent = content; }
    return node;
  }

  function urlFor(id) { return supportUrl.replace(/\/0$/, "/" + id); }

  function supportForm(id) {
    var form = el("form", "inline-form");
    form.method = "post";
    form.action = urlFor(id);
    form.dataset.support = id;
    var csrf = el("input");
    csrf.type = "hidden"; csrf.name = "csrf_token"; csrf.value = live.csrfToken();
    var key = el("input");
    key.type = "hidden"; key.name = "key"; key.value = live.key();
    var button = el("button", "button button-small", "+1 Je soutiens");
    button.type = "submit";
    button.appendChild(el("span", "visually-hidden", " l'idée n° " + id));
    form.appendChild(csrf); form.appendChild(key); form.appendChild(button);
    return form;
  }

  function supportsText(n) { return n + " soutien" + (n > 1 ? "s" : ""); }

  function ideaItem(c) {
    var li = el("li", "live-idea");
    li.dataset.id = c.id;
    li.appendChild(el("p", "idea-text", c.shown || c.text));
    var meta = el("p", "idea-meta", c.speaker + (c.commune ? ", " + c.commune : ""));
    if (c.theme && labels[c.theme]) {
      meta.appendChild(document.createTextNode(" · "));
      var t = el("span", "", labels[c.theme]);
      t.dataset.themeLabel = "";
      meta.appendChild(t);
    }
    meta.appendChild(document.createTextNode(" · "));
    var s = el("span", "", String(c.supports || 0));
    s.dataset.supports = "";
    meta.appendChild(s);
    meta.appendChild(document.createTextNode(c.supports > 1 ? " soutiens" : " soutien"));
    li.appendChild(meta);
    if (supportedIds[c.id]) {
      li.appendChild(el("p", "supported", "Vous soutenez cette idée."));
    } else if (canSupport) {
      li.appendChild(supportForm(c.id));
    }
    return li;
  }

  function setSupports(id, n) {
    Array.prototype.forEach.call(document.querySelectorAll('[data-id="' + id + '"] [data-supports]'), function (s) {
      s.textContent = String(n);
      if (s.nextSibling) { s.nextSibling.textContent = n > 1 ? " soutiens" : " soutien"; }
    });
  }

  function renderPicture(p) {
    if (!p) { return; }
    document.getElementById("total").textContent = p.total;
    p.themes.forEach(function (t) {
      var li = document.querySelector('.live-theme[data-theme="' + t.code + '"]');
      if (!li) { return; }
      li.querySelector("[data-count]").textContent = t.count;
      var list = li.querySelector("[data-points]");
      list.textContent = "";
      t.points.slice(0, 3).forEach(function (pt) {
        var item = el("li", "", pt.label + " ");
        item.appendChild(el("span", "count", "(" + pt.size + ")"));
        list.appendChild(item);
      });
    });
  }

  function addIdea(c) {
    if (c.status && c.status !== "visible") { return; }
    if (latest.querySelector('li[data-id="' + c.id + '"]')) { return; }
    var empty = latest.querySelector(".live-empty");
    if (empty) { empty.remove(); }
    latest.insertBefore(ideaItem(c), latest.firstChild);
    while (latest.children.length > MAX) { latest.removeChild(latest.lastChild); }
  }

  function applySnapshot(s) {
    renderPicture(s.picture);
    document.getElementById("phase").textContent = s.congress.phase_label;
    if (firstSnapshot) { firstSnapshot = false; return; }
    // Reconnected: add what arrived meanwhile and drop what was hidden.
    var shown = {};
    (s.latest || []).forEach(function (c) { shown[c.id] = c; });
    Array.prototype.forEach.call(latest.querySelectorAll("li[data-id]"), function (li) {
      var c = shown[li.dataset.id];
      if (!c) { li.remove(); } else { setSupports(c.id, c.supports); }
    });
    (s.latest || []).slice().reverse().forEach(addIdea);
  }

  // "+1": over the socket when connected (idempotency key), else a plain POST.
  function support(form) {
    var id = Number(form.dataset.support);
    var answer = function (ack) {
      if (ack && ack.ok) {
        setSupports(id, ack.supports);
        supportedIds[id] = true;
        // The same idea may show twice (latest ideas and similar ideas): no +1 left on it.
        Array.prototype.forEach.call(
          document.querySelectorAll('form[data-support="' + id + '"]'), function (other) {
            var done = el("p", "supported", "Vous soutenez cette idée.");
            if (other === form) { done.setAttribute("role", "status"); }
            other.replaceWith(done);
          });
      } else {
        var err = form.querySelector(".feedback") || el("span", "feedback is-error");
        err.setAttribute("role", "alert");
        err.textContent = " " + ((ack && ack.error) || "Soutien non enregistré.");
        form.appendChild(err);
      }
    };
    var key = form.querySelector('input[name="key"]').value;
    if (socket && socket.connected) {
      live.send(socket, "support", { id: id }).then(answer);
    } else {
      live.post(form.action, { key: key }).then(answer);
    }
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.dataset || !form.dataset.support) { return; }
    e.preventDefault();
    support(form);
  });

  // Similar ideas while writing.
  var area = document.getElementById("text");
  var box = document.getElementById("similaires");
  if (area && box) {
    var ask = live.debounce(function () {
      var draft = area.value.trim();
      if (draft.length < 12) { box.textContent = ""; return; }
      fetch(root.dataset.similarUrl + "?texte=" + encodeURIComponent(draft.slice(0, 600)),
            { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (data) {
          box.textContent = "";
          if (!data.items.length) { return; }
          box.appendChild(el("p", "similar-title",
            "Des idées proches existent déjà : soutenez-en une plutôt que de la répéter."));
          var list = el("ul", "plain-list");
          data.items.forEach(function (c) {
            var li = el("li", "similar-item");
            li.dataset.id = c.id;
            li.appendChild(el("p", "idea-text", c.shown || c.text));
            var meta = el("p", "idea-meta", (c.theme ? c.theme + " · " : ""));
            var s = el("span", "", String(c.supports));
            s.dataset.supports = "";
            meta.appendChild(s);
            meta.appendChild(document.createTextNode(c.supports > 1 ? " soutiens" : " soutien"));
            li.appendChild(meta);
            if (c.supported || supportedIds[c.id]) {
              li.appendChild(el("p", "supported", "Vous soutenez cette idée."));
            } else if (canSupport && !c.own) {
              li.appendChild(supportForm(c.id));
            }
            list.appendChild(li);
          });
          box.appendChild(list);
        })
        .catch(function () { box.textContent = ""; });
    }, 400);
    area.addEventListener("input", ask);
  }

  socket = live.connect({
    congress: root.dataset.congress,
    audience: "participants",
    onSnapshot: applySnapshot,
    on: {
      "contribution.created": addIdea,
      // A burst of ideas arrives as one batch (oldest first).
      "contributions.created": function (b) { (b.items || []).forEach(addIdea); },
      "contribution.updated": function (c) {
        var li = latest.querySelector('li[data-id="' + c.id + '"]');
        if (c.status !== "visible") { if (li) { li.remove(); } return; }
        if (!li) { return; }
        var t = li.querySelector("[data-theme-label]");
        if (t && labels[c.theme]) { t.textContent = labels[c.theme]; }
        if (c.supports !== undefined) { setSupports(c.id, c.supports); }
      },
      "points.updated": function (p) {
        renderPicture(p.picture);
        Object.keys(p.supports || {}).forEach(function (id) { setSupports(id, p.supports[id]); });
        (p.changed || []).forEach(function (c) {
          var li = latest.querySelector('li[data-id="' + c.id + '"]');
          if (c.status !== "visible" && li) { li.remove(); return; }
          var t = li && li.querySelector("[data-theme-label]");
          if (t && labels[c.theme]) { t.textContent = labels[c.theme]; }
        });
      },
      "phase.changed": function (p) { document.getElementById("phase").textContent = p.label; }
    }
  });
})();
