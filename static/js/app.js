/* Headway front-end glue. No inline scripts anywhere (CSP): figures are JSON blocks
   <script type="application/json" class="plot-data" data-target="id"> drawn here. */
(function () {
  "use strict";

  function drawPlots(root) {
    if (!window.Plotly) return;
    (root || document).querySelectorAll("script.plot-data").forEach(function (node) {
      var target = document.getElementById(node.dataset.target);
      if (!target || target.dataset.drawn === "1") return;
      try {
        var fig = JSON.parse(node.textContent);
        var config = Object.assign(
          // No mode bar: on a phone it covered the chart's top (issue 14).
          { displaylogo: false, displayModeBar: false, responsive: true }, fig.config || {});
        window.Plotly.newPlot(target, fig.data, fig.layout || {}, config);
        target.dataset.drawn = "1";
      } catch (err) {
        target.textContent = "This chart could not be drawn.";
      }
    });
  }

  function showToast(text) {
    var toast = document.getElementById("toast");
    if (!toast) return;
    toast.textContent = text;
    toast.classList.add("toast--show");
    setTimeout(function () { toast.classList.remove("toast--show"); }, 3500);
  }

  document.addEventListener("DOMContentLoaded", function () { drawPlots(document); });
  document.addEventListener("htmx:afterSettle", function (evt) { drawPlots(evt.target); });
  // Servers send HX-Trigger: {"toast": "Saved"} for a short confirmation.
  document.addEventListener("toast", function (evt) {
    showToast((evt.detail && evt.detail.value) || "Saved");
  });
  document.addEventListener("htmx:responseError", function (evt) {
    var status = evt.detail.xhr.status;
    if (status === 403) showToast("You do not have the rights for that.");
    else if (status === 404) showToast("That no longer exists.");
    else if (status === 409) showToast("Someone else changed this. Reload to see it.");
    else if (status >= 500) showToast("Something went wrong on our side. Nothing was saved.");
  });
  document.addEventListener("htmx:sendError", function () {
    showToast("Could not reach the server. Check your connection.");
  });
  // Any element with data-confirm asks before submitting (no inline JS needed).
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      evt.preventDefault();
    }
  }, true);
  // Selects with data-autosubmit submit their form (filters).
  document.addEventListener("change", function (evt) {
    var el = evt.target;
    if (el.dataset && el.dataset.autosubmit !== undefined && el.form) {
      if (el.form.requestSubmit) el.form.requestSubmit(); else el.form.submit();
    }
  });
})();
