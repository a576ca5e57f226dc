// Drafting pages, progressive enhancement (the forms work without JavaScript):
// - the article editor's preview follows the typing, rendered by the server exactly as
//   on the published page (POST /animation/redaction/apercu, sanitised HTML);
// - the list of articles can be reordered by drag and drop (SortableJS, touch too);
//   the « Monter » / « Descendre » buttons stay for the keyboard.
(function () {
  "use strict";
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";

  function postJson(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-CSRFToken": csrf },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    });
  }

  // --- live preview ---------------------------------------------------------------
  var editor = document.querySelector("textarea[data-preview-url]");
  if (editor) {
    var target = document.getElementById(editor.getAttribute("data-preview-target"));
    var timer = null;
    var sent = 0;
    editor.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var ticket = ++sent;
        postJson(editor.getAttribute("data-preview-url"), { text: editor.value })
          .then(function (answer) {
            if (ticket !== sent || !target) { return; }  // a newer preview is on its way
            if (answer.status === 200 && typeof answer.data.html === "string") {
              target.innerHTML = answer.data.html;  // sanitised by the server (nh3)
            }
          }).catch(function () { /* offline: the saved text's preview stays */ });
      }, 300);
    });
  }

  // --- drag and drop reordering -------------------------------------------------------
  var list = document.querySelector("ol[data-order-url]");
  if (list && typeof window.Sortable === "function") {
    var status = document.getElementById("ordre-statut");
    window.Sortable.create(list, {
      draggable: "li[data-article-id]",
      handle: ".drag-handle",
      animation: 150,
      onEnd: function () {
        var ids = Array.prototype.map.call(list.querySelectorAll("li[data-article-id]"),
          function (li) { return Number(li.getAttribute("data-article-id")); });
        if (status) { status.textContent = "Enregistrement du nouvel ordre…"; }
        postJson(list.getAttribute("data-order-url"), { order: ids }).then(function (answer) {
          if (answer.status === 200) {
            window.location.reload();  // the articles' numbers follow the new order
          } else if (status) {
            status.textContent = answer.data.error || "Ordre refusé.";
          }
        }).catch(function () {
          if (status) { status.textContent = "Connexion perdue : l'ordre n'a pas été enregistré."; }
        });
      }
    });
  }
})();
