// Whole words on the room's screens (issue 14): a projector never splits a word across
// two lines nor shows half a line. Compound words (« Saint-Denis », « demi-journées ») stay
// on one line, and a text too long for its box is cut after its last whole word and ends
// with « … » (a CSS ellipsis cuts mid-word; a clip or a fade leaves half a line).
// Used by projector.js and projector_vote.js.
window.MotionWords = (function () {
  "use strict";
  var COMPOUND = /[^\s-]+(?:-[^\s-]+)+/g;

  function textNodes(root) {
    var nodes = [];
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    var node;
    while ((node = walker.nextNode())) { nodes.push(node); }
    return nodes;
  }

  // Wraps each compound word of `root`'s text in <span class="compound"> (white-space:
  // nowrap): the browser would otherwise break the line after its hyphen.
  function keepCompounds(root) {
    textNodes(root).forEach(function (node) {
      var parent = node.parentNode;
      if (!parent || (parent.classList && parent.classList.contains("compound"))) { return; }
      var data = node.data;
      var found = data.match(COMPOUND);
      if (!found) { return; }
      var fragment = document.createDocumentFragment();
      var at = 0;
      data.replace(COMPOUND, function (word, index) {
        if (index > at) { fragment.appendChild(document.createTextNode(data.slice(at, index))); }
        var span = document.createElement("span");
        span.className = "compound";
        span.textContent = word;
        fragment.appendChild(span);
        at = index + word.length;
        return word;
      });
      if (at < data.length) { fragment.appendChild(document.createTextNode(data.slice(at))); }
      parent.replaceChild(fragment, node);
    });
  }

  function setText(el, text) {
    el.textContent = text;
    keepCompounds(el);
  }

  // A test that `box` is at most `n` lines of its own line height.
  function lines(box, n) {
    return function () {
      return box.getBoundingClientRect().height <=
        n * (parseFloat(getComputedStyle(box).lineHeight) || 0) + 1;
    };
  }

  // A test that `box` shows all its content (it clips the rest).
  function fitsBox(box) {
    return function () { return box.scrollHeight <= box.clientHeight + 1; };
  }

  function parts(box) {
    return textNodes(box).map(function (node) {
      var data = node.data;
      return { node: node, data: data, lead: /^\s/.test(data) ? " " : "",
               words: data.trim() ? data.trim().split(/\s+/) : [] };
    });
  }

  function keepWords(box, all, n) {
    var left = n;
    var last = null;
    var cut = false;
    all.forEach(function (p) {
      var k = Math.min(left, p.words.length);
      left -= k;
      if (k === p.words.length) {
        p.node.data = p.data;
      } else {
        p.node.data = k ? p.lead + p.words.slice(0, k).join(" ") : "";
        cut = true;
      }
      if (k) { last = p; }
    });
    if (cut && last) {
      last.node.data = last.node.data.replace(/[\s,;:.\u2026]+$/, "") + "\u2026";
    }
    Array.prototype.forEach.call(box.querySelectorAll("*"), function (e) {
      e.hidden = !e.textContent.trim();  // a paragraph left empty takes no room
    });
  }

  // Keeps the most words of `box` (in reading order) for which `fits()` holds; returns
  // whether the whole text fitted. The caller puts the whole text back before fitting again.
  function fitWords(box, fits) {
    if (fits()) { return true; }
    var all = parts(box);
    var total = all.reduce(function (sum, p) { return sum + p.words.length; }, 0);
    var low = 0, high = total - 1;
    while (low < high) {
      var mid = Math.ceil((low + high) / 2);
      keepWords(box, all, mid);
      if (fits()) { low = mid; } else { high = mid - 1; }
    }
    keepWords(box, all, low);
    return false;
  }

  return { keepCompounds: keepCompounds, setText: setText, lines: lines, fitsBox: fitsBox,
           fitWords: fitWords };
})();
