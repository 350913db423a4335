// A button with data-copy="<input id>" copies that input's value (the new API token) to the clipboard.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.dataset.copy);
      input.select();
      var done = function () { button.textContent = "Copied"; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () { button.textContent = "Press Ctrl+C"; });
      } else {
        button.textContent = "Press Ctrl+C";  // the value is selected
      }
    });
  });
})();
