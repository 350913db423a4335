// Every <table data-csv="<file name>"> gets a "Download CSV" button after it: the table as
// shown (header row, then each row's cell texts), so any table of a page leaves as a file.
(function () {
  "use strict";
  function quoted(text) {
    var value = text.replace(/\s+/g, " ").trim();
    return /[",\n]/.test(value) ? '"' + value.replace(/"/g, '""') + '"' : value;
  }

  function csv(table) {
    return Array.prototype.map.call(table.rows, function (row) {
      return Array.prototype.map.call(row.cells, function (cell) { return quoted(cell.textContent); }).join(",");
    }).join("\r\n") + "\r\n";
  }

  document.querySelectorAll("table[data-csv]").forEach(function (table) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = "Download CSV";
    button.addEventListener("click", function () {
      var link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([csv(table)], { type: "text/csv;charset=utf-8" }));
      link.download = table.dataset.csv + ".csv";
      document.body.appendChild(link);
      link.click();
      link.remove();
      window.setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
    });
    var holder = document.createElement("p");
    holder.appendChild(button);
    table.insertAdjacentElement("afterend", holder);
  });
})();
