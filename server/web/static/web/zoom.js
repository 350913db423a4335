// Zoom by brushing: a chart element with data-zoom-param="<name>" has an x-interval selection
// of that name on its step axis (charts/curves.py run_history). When a drag that changed the
// selection ends, the page is loaded again with ?min_step=&max_step= set to the brushed steps,
// so the server sends that range in more detail instead of the browser stretching the points
// it already has. While a drag is under way, data-brushing is set on the element (run.js waits
// for it before reloading a running run's page).
(function () {
  "use strict";

  function navigate(range) {
    var url = new URL(window.location.href);
    // Outward to whole steps, never below step 0 (the brush can start left of the first point).
    url.searchParams.set("min_step", String(Math.max(0, Math.floor(range[0]))));
    url.searchParams.set("max_step", String(Math.max(0, Math.ceil(range[1]))));
    window.location.assign(url.toString());
  }

  function listen(element, view) {
    var param = element.dataset.zoomParam;
    var range = null;
    var changed = false;
    view.addSignalListener(param, function (name, value) {
      // {step: [from, to]} while a brush is drawn, {} once it is cleared.
      var steps = value && value.step;
      range = steps && steps.length === 2 ? [Math.min(steps[0], steps[1]), Math.max(steps[0], steps[1])] : null;
      changed = true;
    });
    element.addEventListener("pointerdown", function () {
      changed = false;
      element.dataset.brushing = "1";
    });
    // On the window: the drag may end outside the chart. Vega updates the signal in its own
    // pointerup handler and runs its dataflow asynchronously, so read the range a tick later.
    window.addEventListener("pointerup", function () {
      if (!element.dataset.brushing) {
        return;
      }
      window.setTimeout(function () {
        delete element.dataset.brushing;
        if (changed && range) {
          navigate(range);
        }
      }, 0);
    });
  }

  document.querySelectorAll("[data-zoom-param]").forEach(function (element) {
    var drawn = window.seedboardCharts && window.seedboardCharts.drawn(element);
    if (drawn) {
      drawn.then(function (result) {
        listen(element, result.view);
      });
    }
  });
})();
