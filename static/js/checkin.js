/* The weekly check-in page (issue 19): the keyboard.
   - Enter in a row's value, status, confidence or comment checks that row in (its
     "Check in" button: htmx posts the row alone and swaps it in place); Enter on a button
     does what the button says.
   - Alt+ArrowDown / Alt+ArrowUp move to the next / previous row not checked in this week
     (its first field).
   - A row's value is selected when focused: typing replaces the current value.
   - Focus stays where the person is after a swap: htmx puts it back on the element with
     the same id; after "Check in all" it goes to the summary. */
(function () {
  "use strict";

  function rowOf(el) { return el && el.closest ? el.closest("article.ci-row") : null; }

  function firstField(row) {
    return row.querySelector("[data-row-first]") || row.querySelector("input:not([type=hidden]), select");
  }

  function moveToOpenRow(from, step) {
    var rows = Array.prototype.slice.call(document.querySelectorAll("#ci-all article.ci-row"));
    if (!rows.length) return;
    var start = rows.indexOf(rowOf(from));
    for (var i = 1; i <= rows.length; i++) {
      var index = start + step * i;
      if (start < 0) index = step > 0 ? i - 1 : rows.length - i;
      index = ((index % rows.length) + rows.length) % rows.length;
      var row = rows[index];
      if (row.classList.contains("ci-row--checked")) continue;
      var field = firstField(row);
      if (field) {
        field.focus();
        if (field.select && field.type === "text") field.select();
        row.scrollIntoView({ block: "nearest" });
        return;
      }
    }
  }

  // A row's value starts as the current value: focusing it selects it, so typing the new
  // value replaces it (no select-all first). The mouseup that follows a click-to-focus
  // would drop the selection: it is skipped once.
  var justFocused = null;
  document.addEventListener("focusin", function (evt) {
    var el = evt.target;
    if (el.tagName === "INPUT" && el.getAttribute("inputmode") === "decimal" && rowOf(el)) {
      el.select();
      justFocused = el;
    }
  });
  document.addEventListener("mouseup", function (evt) {
    if (justFocused && evt.target === justFocused) evt.preventDefault();
    justFocused = null;
  });

  document.addEventListener("keydown", function (evt) {
    var target = evt.target;
    if (evt.altKey && (evt.key === "ArrowDown" || evt.key === "ArrowUp")) {
      if (!document.getElementById("ci-all")) return;
      evt.preventDefault();
      moveToOpenRow(target, evt.key === "ArrowDown" ? 1 : -1);
      return;
    }
    if (evt.key !== "Enter" || evt.shiftKey || evt.ctrlKey || evt.metaKey || evt.altKey) return;
    if (evt.isComposing) return;
    var tag = target.tagName;
    if (tag !== "INPUT" && tag !== "SELECT") return;
    if (target.type === "checkbox" && target.id === "ci-untouched") return;
    var row = rowOf(target);
    if (!row || !row.closest("#ci-all")) return;
    var go = row.querySelector("[data-row-go]");
    if (!go) return;
    evt.preventDefault();
    go.click();
  });

  // After "Check in all" (the whole form swapped, after htmx's own focus restore): the
  // first field that needs fixing, else the summary.
  var allSwapped = false;
  document.addEventListener("htmx:beforeSwap", function (evt) {
    allSwapped = !!(evt.detail && evt.detail.target && evt.detail.target.id === "ci-all");
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!allSwapped) return;
    allSwapped = false;
    window.requestAnimationFrame(function () {
      var bad = document.querySelector("#ci-all .ci-row--error [aria-invalid=true]") ||
        document.querySelector("#ci-all .ci-row--error input:not([type=hidden]), #ci-all .ci-row--error select");
      var summary = document.getElementById("ci-all-summary");
      if (bad) bad.focus();
      else if (summary) { summary.setAttribute("tabindex", "-1"); summary.focus(); }
    });
  });
})();
