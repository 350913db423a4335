// Draws every chart on the page: an element with data-chart="<id>" gets the Vega-Lite spec held
// in the <script type="application/json" id="<id>"> that Django's json_script rendered.
// ast: true makes Vega interpret expressions (vega-embed bundles vega-interpreter) instead of
// compiling them with Function(), so the page's CSP needs no 'unsafe-eval'. The default styles
// would be injected as <style> elements, which the CSP forbids: vega-embed.css has them.
// seedboardCharts.drawn(element) is the embed's promise (its result has .view), for page
// scripts loaded after this one that listen to a chart, such as zoom.js.
(function () {
  "use strict";
  var options = {
    renderer: "svg",
    ast: true,
    defaultStyle: false,
    forceActionsMenu: true,
    tooltip: { disableDefaultStyle: true },
    actions: { export: true, source: false, compiled: false, editor: false }
  };

  var drawn = new Map();

  function draw(element) {
    var data = document.getElementById(element.dataset.chart);
    if (!data) {
      console.error("No chart data with id " + element.dataset.chart);
      return;
    }
    var embedded = vegaEmbed(element, JSON.parse(data.textContent), options);
    drawn.set(element, embedded);
    embedded.catch(function (error) {
      element.textContent = "This chart could not be drawn: " + error.message;
      element.classList.add("chart-error");
      console.error(error);
    });
  }

  window.seedboardCharts = {
    drawn: function (element) {
      return drawn.get(element);
    }
  };
  document.querySelectorAll("[data-chart]").forEach(draw);
})();
