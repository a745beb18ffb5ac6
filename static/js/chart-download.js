/* The KPI chart's PNG and SVG downloads: buttons with data-plot-download="<plot id>",
   data-format (png|svg) and data-filename. Plotly.downloadImage draws the figure to an
   image in the page (data: URLs, which the Content Security Policy's img-src allows); no
   inline script, no eval. */
(function () {
  "use strict";
  var _ = window.gettext || function (text) { return text; };
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-plot-download]");
    if (!button || !window.Plotly) return;
    var plot = document.getElementById(button.dataset.plotDownload);
    if (!plot || plot.dataset.drawn !== "1") return;
    event.preventDefault();
    var format = button.dataset.format === "svg" ? "svg" : "png";
    window.Plotly.downloadImage(plot, {
      format: format, filename: button.dataset.filename || "chart",
      width: plot.offsetWidth || 900, height: plot.offsetHeight || 380
    }).catch(function () {
      button.textContent = _("Download failed");
    });
  });
})();
