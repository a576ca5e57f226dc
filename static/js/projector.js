// Projector: follows the congress live and redraws the mosaic, ticker, map and modes.
// No interaction: the facilitator drives the mode from the board.
(function () {
  "use strict";
  var body = document.body;
  var live = window.MotionLive;
  var words = window.MotionWords;
  var stateUrl = body.dataset.stateUrl;
  var tickerSize = 3;
  var themeIndex = {};
  var latest = [];
  var mode = body.dataset.mode || "overview";
  var focusTheme = null;
  var SVGNS = "http://www.w3.org/2000/svg";

  function colourClass(code) {
    return Object.prototype.hasOwnProperty.call(themeIndex, code) ? "t" + themeIndex[code] : "t-hors";
  }

  function plural(n, word) { return n + " " + word + (n > 1 ? "s" : ""); }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  // Recurring points: each shown WHOLE (its statement, never cut), biggest first. What fits
  // is measured here, in the real box at the real size, rather than guessed on the server
  // from a character budget: fonts, window size and sentence lengths all vary, and a
  // measured fit never clips nor wastes room. The items that do not fit are hidden from
  // the end and counted in « + N autres points ».
  function pointItem(p) {
    var li = el("li", "point");
    var size = el("span", "point-size", String(p.size));
    size.appendChild(el("span", "visually-hidden", p.size > 1 ? " idées" : " idée"));
    li.appendChild(size);
    li.appendChild(document.createTextNode(" "));
    var statement = el("span", "point-statement");
    words.setText(statement, p.label);
    li.appendChild(statement);
    return li;
  }

  function moreText(rest, shown, total) {
    if (!total) { return "Pas encore de point récurrent."; }
    if (!shown) { return total + (total > 1 ? " points récurrents" : " point récurrent"); }
    return "+\u00a0" + rest + (rest > 1 ? " autres points" : " autre point");
  }

  function overflows(box) {
    return box.scrollHeight > box.clientHeight + 1 || box.scrollWidth > box.clientWidth + 1;
  }

  function fitWith(box, items, total) {
    var more = box.querySelector("[data-more]");
    var shown = items.length;
    function show(n) {
      items.forEach(function (li, i) { li.hidden = i >= n; });
      var rest = total - n;
      more.textContent = moreText(rest, n, total);
      more.hidden = total > 0 && rest <= 0;
    }
    show(shown);
    while (shown > 0 && overflows(box)) {
      shown -= 1;
      show(shown);
    }
    return shown;
  }

  function fit(box) {
    if (!box.offsetParent) { return; }  // hidden mode: fitted when it is shown
    var items = Array.prototype.slice.call(box.querySelectorAll("[data-points] > li"));
    var total = Math.max(Number(box.dataset.total) || 0, items.length);
    box.classList.remove("compact");
    if (fitWith(box, items, total) === 0 && items.length) {
      box.classList.add("compact");  // not even the largest point: smaller type, not a cut
      fitWith(box, items, total);
    }
  }

  function fitAll() {
    // Only the visible words are fitted: the heading's hidden « Projecteur — » stays hidden.
    var title = document.querySelector(".bar-title");
    clampWords(title, title.querySelector(".bar-title-text") || title, 2);
    fitTicker();
    Array.prototype.forEach.call(document.querySelectorAll("[data-fit]"), fit);
  }

  function renderPoints(box, points, total) {
    var list = box.querySelector("[data-points]");
    list.textContent = "";
    points.forEach(function (p) { list.appendChild(pointItem(p)); });
    box.dataset.total = total === undefined ? points.length : total;
    fit(box);
  }

  function renderPicture(picture) {
    if (!picture) { return; }
    themeIndex = {};
    picture.themes.forEach(function (t, i) { themeIndex[t.code] = i; });
    var total = document.getElementById("total");
    total.textContent = picture.total;
    total.parentNode.lastChild.textContent = picture.total > 1 ? " idées" : " idée";
    picture.themes.forEach(function (t) {
      var tile = document.querySelector('.tile[data-theme="' + t.code + '"]');
      if (!tile) { return; }
      tile.querySelector("[data-count]").textContent = t.count;
      tile.querySelector(".tile-unit").textContent = t.count > 1 ? "idées" : "idée";
      renderPoints(tile.querySelector("[data-fit]"), t.points, t.point_count);
    });
  }

  // The ticker's ideas keep whole words and whole lines (words.js): the first one on two
  // lines, the others on one, each cut after the last word that fits, with « … ».
  var TICKER_LINES = [2, 1];

  // Returns whether the whole text fits.
  function clampWords(item, text, lines) {
    if (!text.hasAttribute("data-full")) { text.setAttribute("data-full", text.textContent); }
    words.setText(text, text.getAttribute("data-full"));
    item.setAttribute("data-fitted", "");
    return words.fitWords(text, words.lines(item, lines));
  }

  function fitTicker() {
    var items = document.querySelectorAll("#ticker > li");
    Array.prototype.forEach.call(items, function (li, i) {
      var text = li.querySelector(".ticker-text");
      var who = li.querySelector(".ticker-who");
      if (!text) { return; }
      var lines = TICKER_LINES[Math.min(i, TICKER_LINES.length - 1)];
      if (who) { who.hidden = false; }
      // The idea comes before its author: when it does not fit whole, the speaker and
      // commune give way to it.
      if (!clampWords(li, text, lines) && who) {
        who.hidden = true;
        clampWords(li, text, lines);
      }
    });
  }

  function renderTicker(fresh) {
    var list = document.getElementById("ticker");
    list.textContent = "";
    latest.slice(0, tickerSize).forEach(function (c, i) {
      var li = el("li", colourClass(c.theme));
      li.dataset.id = c.id;
      li.appendChild(el("span", "ticker-text", c.shown || c.text));
      li.appendChild(document.createTextNode(" "));
      var who = el("span", "ticker-who");
      words.setText(who, c.speaker + (c.commune ? ", " + c.commune : ""));
      li.appendChild(who);
      if (fresh && i === 0) { li.classList.add("arrived"); }
      list.appendChild(li);
    });
    if (!latest.length) {
      list.appendChild(el("li", "ticker-empty", "Les premières idées apparaîtront ici."));
    }
    fitTicker();
  }

  function dot(id) { return document.querySelector('#map-points circle[data-id="' + id + '"]'); }

  function placeDot(c, fresh) {
    if (c.x === null || c.x === undefined) { return; }
    var circle = dot(c.id);
    if (!circle) {
      circle = document.createElementNS(SVGNS, "circle");
      circle.setAttribute("r", "0.03");
      circle.dataset.id = c.id;
      document.getElementById("map-points").appendChild(circle);
    }
    circle.setAttribute("cx", c.x);
    circle.setAttribute("cy", c.y);
    circle.setAttribute("class", "dot " + colourClass(c.theme) + (fresh ? " fresh" : ""));
    if (fresh) {
      window.setTimeout(function () { circle.classList.remove("fresh"); }, 4000);
    }
  }

  function renderMap(map) {
    if (!map) { return; }
    var group = document.getElementById("map-points");
    group.textContent = "";
    map.forEach(function (p) { placeDot({ id: p[0], x: p[1], y: p[2], theme: p[3] }); });
  }

  function renderFocus(f) {
    var section = document.getElementById("theme-mode");
    focusTheme = f ? f.theme : null;
    section.className = "focus " + (f ? colourClass(f.theme) : "");
    words.setText(document.getElementById("focus-title"), f ? f.label : "");
    document.getElementById("focus-count").textContent = f ? f.count : 0;
    renderPoints(document.querySelector("#theme-mode [data-fit]"), f ? f.points : [],
      f ? f.point_count : 0);
  }

  function setMode(next) {
    mode = next || "overview";
    body.dataset.mode = mode;
    document.getElementById("overview-mode").hidden = mode !== "overview";
    document.getElementById("theme-mode").hidden = mode !== "theme";
    document.getElementById("vote-mode").hidden = mode !== "vote";
    var map = document.getElementById("map");
    map.setAttribute("class", "map" + (mode === "theme" && focusTheme !== null &&
      Object.prototype.hasOwnProperty.call(themeIndex, focusTheme) ? " dim-t" + themeIndex[focusTheme] : ""));
    fitAll();
    document.dispatchEvent(new CustomEvent("projector:mode", { detail: { mode: mode } }));
  }

  function applySnapshot(s) {
    if (!s) { return; }
    renderPicture(s.picture);
    latest = (s.latest || []).slice();
    renderTicker(false);
    renderMap(s.map);
    renderFocus(s.focus);
    document.getElementById("phase").textContent = s.congress.phase_label;
    setMode(s.projector.mode);
  }

  var refetch = live.debounce(function () {
    fetch(stateUrl, { headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(applySnapshot)
      .catch(function () { /* the next event or reconnection resyncs */ });
  }, 250);

  function isShown(c) { return c.status === "visible"; }

  words.keepCompounds(document.querySelector(".screen"));
  fitAll();  // the server-rendered points, before the first snapshot
  window.addEventListener("resize", live.debounce(fitAll, 150));
  if (document.fonts && document.fonts.ready) { document.fonts.ready.then(fitAll); }

  live.connect({
    congress: body.dataset.congress,
    audience: "projector",
    onSnapshot: applySnapshot,
    on: {
      "contribution.created": function (c) {
        latest = [c].concat(latest.filter(function (x) { return x.id !== c.id; })).slice(0, 12);
        renderTicker(true);
        placeDot(c, true);
      },
      "contribution.updated": function (c) {
        if (!isShown(c)) {
          latest = latest.filter(function (x) { return x.id !== c.id; });
          var circle = dot(c.id);
          if (circle) { circle.remove(); }
        } else {
          latest = latest.map(function (x) { return x.id === c.id ? c : x; });
          placeDot(c, false);
        }
        renderTicker(false);
      },
      "points.updated": function (p) {
        renderPicture(p.picture);
        (p.changed || []).forEach(function (c) {
          latest = latest.map(function (x) { return x.id === c.id ? Object.assign({}, x, c) : x; });
          if (c.status === "visible") { placeDot(c, false); }
        });
        if (p.changed) { renderTicker(false); }
        if (p.reason === "refit" || mode === "theme") { refetch(); }
      },
      "projector.mode": function () { refetch(); },
      "phase.changed": function (p) { document.getElementById("phase").textContent = p.label; }
    }
  });
})();
