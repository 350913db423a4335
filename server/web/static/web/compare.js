// While a comparison is not fresh, asks its status.json every 2 s and reloads the page once it
// is fresh (a failed comparison stops the polling: it waits for its runs to change).
(function () {
  "use strict";
  var line = document.getElementById("compare-status");
  if (!line || line.dataset.status === "fresh" || line.dataset.status === "failed") {
    return;
  }
  function poll() {
    fetch(line.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (body && (body.status === "fresh" || body.status === "failed")) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 2000);
        }
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 2000);
})();
