// The runs table: while some of its rows are running, asks runs.json every 3 s for their status
// and the shown metrics' last values, and updates those cells in place (no reload, so the
// ticked checkboxes and the scroll position stay).
(function () {
  "use strict";
  var table = document.getElementById("runs-table");
  if (!table || table.dataset.running !== "true") {
    return;
  }
  var metrics = table.dataset.metrics ? table.dataset.metrics.split(",") : [];

  function runningRows() {
    return Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-status='running']"));
  }

  function format(value) {
    if (value === null || value === undefined) {
      return "—";
    }
    return typeof value === "number" ? String(Number(value.toPrecision(4))) : String(value);
  }

  function update(row, run) {
    var status = row.querySelector("[data-cell='status']");
    status.textContent = run.status;
    status.className = "status status-" + run.status;
    row.dataset.status = run.status;
    metrics.forEach(function (key, i) {
      var cell = row.querySelector("[data-metric='" + i + "']");
      var summary = run.metrics[key];
      if (cell && summary) {
        cell.textContent = format(summary.last_value);
        cell.title = summary.count + " points, last at step " + summary.last_step;
      }
    });
  }

  function poll() {
    var rows = runningRows();
    if (!rows.length) {
      return;
    }
    var query = new URLSearchParams();
    rows.forEach(function (row) { query.append("run", row.dataset.run); });
    query.set("metrics", metrics.join(","));
    fetch(table.dataset.liveUrl + "?" + query.toString(), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (body) {
          var byId = {};
          body.runs.forEach(function (run) { byId[run.id] = run; });
          rows.forEach(function (row) {
            if (byId[row.dataset.run]) {
              update(row, byId[row.dataset.run]);
            }
          });
        }
        window.setTimeout(poll, 3000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }

  window.setTimeout(poll, 3000);
})();
