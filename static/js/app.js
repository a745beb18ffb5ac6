/* Headway front-end glue. No inline scripts anywhere (CSP): figures are JSON blocks
   <script type="application/json" class="plot-data" data-target="id"> drawn here.
   Words go through gettext() of Django's JavaScript catalogue (/jsi18n/<lang>.js, loaded by
   base.html before this file); without it (a page that does not load it) they stay English. */
(function () {
  "use strict";
  var _ = window.gettext || function (text) { return text; };

  // The reader's language for plotly.js (month names from static/vendor/plotly-locale-*.js) and
  // its number separators as the browser writes them in that language ("1.234,5" in German).
  var LANG = document.documentElement.lang || "en";
  function separators() {
    var out = { decimal: ".", group: "," };
    try {
      new Intl.NumberFormat(LANG).formatToParts(12345.6).forEach(function (part) {
        if (part.type === "decimal" || part.type === "group") out[part.type] = part.value;
      });
    } catch (err) { /* an old browser: plotly.js's defaults */ }
    return out.decimal + out.group;
  }

  function drawPlots(root) {
    if (!window.Plotly) return;
    (root || document).querySelectorAll("script.plot-data").forEach(function (node) {
      var target = document.getElementById(node.dataset.target);
      if (!target || target.dataset.drawn === "1") return;
      try {
        var fig = JSON.parse(node.textContent);
        var config = Object.assign(
          // No mode bar: on a phone it covered the chart's top (issue 14).
          { displaylogo: false, displayModeBar: false, responsive: true, locale: LANG },
          fig.config || {});
        var layout = Object.assign({ separators: separators() }, fig.layout || {});
        window.Plotly.newPlot(target, fig.data, layout, config);
        target.dataset.drawn = "1";
      } catch (err) {
        target.textContent = _("This chart could not be drawn.");
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
    showToast((evt.detail && evt.detail.value) || _("Saved"));
  });
  document.addEventListener("htmx:responseError", function (evt) {
    var status = evt.detail.xhr.status;
    if (status === 403) showToast(_("You do not have the rights for that."));
    else if (status === 404) showToast(_("That no longer exists."));
    else if (status === 409) showToast(_("Someone else changed this. Reload to see it."));
    else if (status >= 500) showToast(_("Something went wrong on our side. Nothing was saved."));
  });
  document.addEventListener("htmx:sendError", function () {
    showToast(_("Could not reach the server. Check your connection."));
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
