// Projector vote mode: "N votes sur M votant·es", a progress bar, presence and quorum
// while a ballot is open, then counts,
// percentages, a bar chart and ADOPTÉ / REJETÉ in huge type once it closes.
// Listens to ballot.opened / ballot.progress / ballot.closed; asks ballot.state on every
// (re)connection so a dropped connection never leaves a stale picture.
(function () {
  "use strict";
  var root = document.querySelector("[data-vote-projector]");
  if (!root) { return; }
  var congress = root.getAttribute("data-congress");
  var words = window.MotionWords;
  var SVG = "http://www.w3.org/2000/svg";
  var CHOICES = ["pour", "contre", "abstention"];
  var LABELS = { pour: "Pour", contre: "Contre", abstention: "Abstention" };
  var current = null;
  try { current = JSON.parse(root.getAttribute("data-state") || "null"); } catch (e) { current = null; }

  function pct(x) { return (Math.round((x || 0) * 10) / 10).toFixed(1).replace(".", ","); }
  function plural(n, word) { return n + " " + word + (n > 1 ? "s" : ""); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function svgBar(cls, width, height) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", cls);
    svg.setAttribute("viewBox", "0 0 100 " + height);
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    return svg;
  }
  function rect(cls, width, height) {
    var r = document.createElementNS(SVG, "rect");
    r.setAttribute("class", cls);
    r.setAttribute("x", "0");
    r.setAttribute("y", "0");
    r.setAttribute("width", String(Math.max(0, Math.min(100, width))));
    r.setAttribute("height", String(height));
    return r;
  }

  // Long titles and texts stay whole words on whole lines (words.js): a text that does not
  // fit first takes smaller type, then is cut after the last word that fits, with « … »
  // (the phones show it all).
  var TEXT_SIZES = ["", " pv-text-small", " pv-text-smaller"];

  function fitScreen() {
    if (!root.getClientRects().length || !current) { return; }  // hidden: fitted when shown
    words.keepCompounds(root);
    var title = root.querySelector(".pv-title");
    if (title) {
      words.setText(title, current.title);
      words.fitWords(title, words.lines(title, 3));
    }
    var text = root.querySelector(".pv-text");
    if (!text || !current.subject) { return; }
    text.innerHTML = current.subject.html;  // rendered and sanitised by the server (nh3)
    words.keepCompounds(text);
    var fits = words.fitsBox(text);
    for (var i = 0; i < TEXT_SIZES.length; i += 1) {
      text.className = "pv-text" + TEXT_SIZES[i];
      if (fits()) { return; }
    }
    words.fitWords(text, fits);
  }

  function meterWidth(b) {
    if (typeof b.percent === "number") { return b.percent; }
    return b.eligible ? 100 * b.cast / b.eligible : 0;
  }
  function texts(b) { return b.texts || { presence: "", quorum: "", progress: "" }; }

  // Presence, quorum and progress as the server words them (ballots.live_progress): the
  // bar is a progressbar whose text equivalent is the progress sentence.
  function meter(b) {
    var box = el("div", "pv-meter-box");
    box.setAttribute("role", "progressbar");
    box.setAttribute("aria-label", "Votes exprimés");
    box.setAttribute("aria-valuemin", "0");
    box.setAttribute("aria-valuemax", "100");
    var svg = svgBar("pv-meter", 0, 4);
    svg.appendChild(rect("pv-meter-track", 100, 4));
    svg.appendChild(rect("pv-meter-fill", meterWidth(b), 4));
    box.appendChild(svg);
    return box;
  }
  function facts() {
    var line = el("p", "pv-facts");
    line.appendChild(el("span", "pv-presence"));
    line.appendChild(document.createTextNode(" "));
    line.appendChild(el("span", "pv-quorum"));
    return line;
  }
  function showFacts(b) {
    var t = texts(b);
    var box = root.querySelector(".pv-meter-box");
    if (box) {
      box.setAttribute("aria-valuenow", String(Math.round(meterWidth(b) * 10) / 10));
      box.setAttribute("aria-valuetext", t.progress);
    }
    var presence = root.querySelector(".pv-presence");
    if (presence) { presence.textContent = t.presence; }
    var quorum = root.querySelector(".pv-quorum");
    if (quorum) {
      quorum.textContent = t.quorum;
      quorum.className = "pv-quorum pv-quorum-" + (b.quorum_met === false ? "unmet" : "met");
    }
  }

  // Chart.js (static/vendor/chart.js) draws the bar chart; the SVG bars stay as the
  // fallback when it is missing. Counts and percentages are always written as text.
  var chart = null;
  var COLOURS = { pour: "#4cc26a", contre: "#ff6b5e", abstention: "#aab2c0" };
  function drawChart(r) {
    var canvas = root.querySelector("canvas.pv-chart");
    if (!canvas || typeof window.Chart !== "function") { return; }
    root.classList.add("has-chart");
    chart = new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: CHOICES.map(function (c) { return LABELS[c]; }),
        datasets: [{
          data: CHOICES.map(function (c) { return r.counts[c]; }),
          backgroundColor: CHOICES.map(function (c) { return COLOURS[c]; }),
          borderWidth: 0
        }]
      },
      options: {
        indexAxis: "y",
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { display: false }, tooltip: { enabled: false } },
        scales: {
          x: { beginAtZero: true, ticks: { color: "#d9dee7", precision: 0, font: { size: 22 } },
               grid: { color: "#2b3240" } },
          y: { ticks: { color: "#ffffff", font: { size: 30, weight: "bold" } },
               grid: { display: false } }
        }
      }
    });
  }

  function render(b) {
    if (chart) { chart.destroy(); chart = null; }
    root.classList.remove("has-chart");
    root.textContent = "";
    if (!b) { root.appendChild(el("p", "pv-empty", "Aucun scrutin en cours.")); return; }
    if (b.state === "open") {
      root.appendChild(el("p", "pv-kicker", "Vote en cours" + (b.secret ? " — scrutin secret" : "")));
      root.appendChild(el("h2", "pv-title", b.title));
      if (b.subject) {
        var subject = el("div", "pv-subject");
        if (b.subject.label) {  // empty when the title already says it (ballots.subject)
          subject.appendChild(el("p", "pv-subject-label", b.subject.label));
        }
        if (b.subject.html) {
          var text = el("div", "pv-text");
          text.innerHTML = b.subject.html;  // rendered and sanitised by the server (nh3)
          subject.appendChild(text);
        }
        root.appendChild(subject);
      }
      var count = el("p", "pv-count");
      count.appendChild(el("span", "pv-cast", String(b.cast || 0)));
      count.appendChild(document.createTextNode((b.cast > 1 ? " votes" : " vote") + " sur "));
      count.appendChild(el("span", "pv-eligible", String(b.eligible || 0)));
      count.appendChild(document.createTextNode(b.eligible > 1 ? " votant·es" : " votant·e"));
      root.appendChild(count);
      root.appendChild(meter(b));
      root.appendChild(facts());
      showFacts(b);
      root.appendChild(el("p", "pv-hint", "Votez sur votre téléphone : Pour, Contre ou Abstention."));
      fitScreen();
      return;
    }
    var r = b.results;
    if (!r) { root.appendChild(el("p", "pv-empty", "Aucun scrutin en cours.")); return; }
    root.appendChild(el("p", "pv-kicker", "Résultat du vote"));
    root.appendChild(el("h2", "pv-title", b.title));
    root.appendChild(el("p", "pv-outcome pv-outcome-" + (r.adopted ? "adopted" : "rejected"),
      r.adopted ? "ADOPTÉ" : "REJETÉ"));
    var box = el("div", "pv-chart-box");
    var canvas = el("canvas", "pv-chart");
    canvas.setAttribute("aria-hidden", "true");
    box.appendChild(canvas);
    root.appendChild(box);
    var bars = el("div", "pv-bars");
    CHOICES.forEach(function (c) {
      var row = el("div", "pv-bar pv-bar-" + c);
      row.appendChild(el("span", "pv-bar-label", LABELS[c]));
      var svg = svgBar("pv-bar-svg", 0, 10);
      svg.appendChild(rect("pv-bar-fill", r.percent_cast[c], 10));
      row.appendChild(svg);
      var value = String(r.counts[c]);
      if (c !== "abstention") { value += " · " + pct(r.percent_expressed[c]) + " %"; }
      row.appendChild(el("span", "pv-bar-value", value));
      bars.appendChild(row);
    });
    root.appendChild(bars);
    drawChart(r);
    root.appendChild(el("p", "pv-detail", plural(r.cast, "vote") + " sur " +
      plural(r.eligible, "votant·e") + " — " + plural(r.expressed, "suffrage") + " exprimé" + (r.expressed > 1 ? "s" : "") +
      ". " + r.reason));
    if (r.room) { root.appendChild(el("p", "room-split", roomSplit(r))); }
    fitScreen();
  }

  // Issue 18: a confirmed room count, beside the electronic votes (vote/_room_split.html).
  function roomSplit(r) {
    var e = r.electronic.counts, m = r.room.counts, n = r.room.people;
    var three = function (c) {
      return "pour " + c.pour + ", contre " + c.contre + ", abstention " + c.abstention;
    };
    return "Dont votes électroniques\u00a0: " + three(e) + "\u00a0; décompte de la salle (" +
      r.room.method_label + ", " + plural(n, "personne") + " comptée" + (n > 1 ? "s" : "") +
      (r.room.without_vote ? ", dont " + r.room.without_vote + " sans vote" : "") +
      ")\u00a0: " + three(m) + ". Les totaux ci-dessus en sont la somme.";
  }

  function progress(p) {
    if (!current || current.id !== p.ballot || current.state !== "open" || p.state !== "open") {
      return;
    }
    Object.keys(p).forEach(function (key) {
      if (key !== "ballot" && key !== "state") { current[key] = p[key]; }
    });
    var cast = root.querySelector(".pv-cast");
    var eligible = root.querySelector(".pv-eligible");
    var fill = root.querySelector(".pv-meter-fill");
    if (!cast || !eligible || !fill) { render(current); return; }
    cast.textContent = String(p.cast);
    eligible.textContent = String(p.eligible);
    cast.nextSibling.textContent = (p.cast > 1 ? " votes" : " vote") + " sur ";
    if (eligible.nextSibling) {  // the word after the number agrees with it, as on the server
      eligible.nextSibling.textContent = p.eligible > 1 ? " votant·es" : " votant·e";
    }
    fill.setAttribute("width", String(Math.max(0, Math.min(100, meterWidth(current)))));
    showFacts(current);
  }

  function pick(list) {
    var open = list.filter(function (b) { return b.state === "open"; });
    if (open.length) { return open[open.length - 1]; }
    var done = list.filter(function (b) { return b.results; });
    return done.length ? done[done.length - 1] : null;
  }

  render(current);
  root.setAttribute("data-ready", "1");
  var refit = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(refit);
    refit = window.setTimeout(fitScreen, 150);
  });
  document.addEventListener("projector:mode", fitScreen);  // the main projector shows it
  if (document.fonts && document.fonts.ready) { document.fonts.ready.then(fitScreen); }
  if (typeof window.io !== "function") { return; }
  var socket = window.io({ auth: { congress: congress, audience: "projector" },
    transports: ["websocket", "polling"] });
  socket.on("connect", function () {
    socket.emit("ballot.state", {}, function (answer) {
      if (answer && answer.ok) { current = pick(answer.ballots); render(current); }
    });
  });
  socket.on("ballot.opened", function (b) { current = b; render(current); });
  socket.on("ballot.progress", progress);
  socket.on("ballot.closed", function (b) {
    if (!current || current.state !== "open" || current.id === b.id) { current = b; render(current); }
  });
  socket.on("ballot.published", function (b) {
    if (current && current.id === b.id) { current = b; render(current); }
  });
})();
