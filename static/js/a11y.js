/* Accessibility glue (issue 23). A table wrapper or a <pre> that scrolls sideways (phones)
   becomes a focusable, named region, so a keyboard user can scroll it (axe scrollable-region-focusable);
   when it fits again it leaves the tab order. Runs on load, after htmx swaps and on resize. */
(function () {
  "use strict";

  function nameFor(wrap) {
    if (wrap.dataset.label) return wrap.dataset.label;
    if (wrap.tagName === "PRE") return "Code (scrolls sideways)";
    var table = wrap.querySelector("table");
    var caption = table && table.querySelector("caption");
    if (caption && caption.textContent.trim()) return caption.textContent.trim();
    var section = wrap.closest("section, .card, main");
    var heading = section && section.querySelector("h1, h2, h3");
    return (heading ? heading.textContent.trim() : "Table") + " (table)";
  }

  function markScrollable(root) {
    (root || document).querySelectorAll(".table-wrap, pre").forEach(function (wrap) {
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        if (!wrap.hasAttribute("aria-label")) wrap.setAttribute("aria-label", nameFor(wrap));
      } else if (wrap.getAttribute("role") === "region") {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
      }
    });
  }

  var pending = null;
  function later() {
    if (pending) return;
    pending = window.requestAnimationFrame(function () { pending = null; markScrollable(); });
  }

  document.addEventListener("DOMContentLoaded", function () { markScrollable(document); });
  document.addEventListener("htmx:afterSettle", later);
  window.addEventListener("resize", later);
})();
