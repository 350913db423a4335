// While a run is running, asks its status.json every 3 s and reloads the page (its charts are
// rendered on the server, downsampled) once new points arrived or the status changed.
(function () {
  "use strict";
  var live = document.getElementById("run-live");
  if (!live || live.dataset.status !== "running") {
    return;
  }
  var count = live.dataset.count;
  var status = live.dataset.status;

  function check() {
    fetch(live.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (body) {
        if (body && (String(body.count) !== count || body.status !== status)) {
          window.location.reload();
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
