// While a run is running, asks its status.json every 3 s and reloads the page (its charts are
// rendered on the server, downsampled) once new points arrived or the status changed. A reload
// keeps the query string (keys, x axis, log, smoothing, zoom); it waits while a zoom brush is
// being dragged (zoom.js marks the chart data-brushing), so the drag is not lost.
(function () {
  "use strict";
  var live = document.getElementById("run-live");
  if (!live || live.dataset.status !== "running") {
    return;
  }
  var count = live.dataset.count;
  var status = live.dataset.status;

  function reloadWhenIdle() {
    if (document.querySelector("[data-brushing]")) {
      window.setTimeout(reloadWhenIdle, 500);
      return;
    }
    window.location.reload();
  }

  function check() {
    fetch(live.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (body) {
        if (body && (String(body.count) !== count || body.status !== status)) {
          reloadWhenIdle();
          return;
        }
        window.setTimeout(check, 3000);
      })
      .catch(function () {
        window.setTimeout(check, 3000);
      });
  }

  window.setTimeout(check, 3000);
})();
