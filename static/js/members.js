// Members page (issue 14, defect 12): a role changes only after the admin confirms it
// (an undo follows on the page), and a new invitation link can be copied.
(function () {
  "use strict";
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (!form.classList || !form.classList.contains("role-form")) return;
    var select = form.querySelector("select[name=role]");
    var chosen = select.options[select.selectedIndex].text;
    if (chosen === form.dataset.current) {
      evt.preventDefault();
      window.alert(form.dataset.person + " is already " + chosen.toLowerCase() + ".");
      return;
    }
    if (!window.confirm("Change " + form.dataset.person + "’s role from " +
                        form.dataset.current.toLowerCase() + " to " + chosen.toLowerCase() + "?")) {
      evt.preventDefault();
    }
  });
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest ? evt.target.closest("[data-copy]") : null;
    if (!button) return;
    var field = document.querySelector(button.dataset.copy);
    if (!field) return;
    field.select();
    var done = function () { button.textContent = "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () {
        document.execCommand("copy"); done();
      });
    } else {
      document.execCommand("copy");
      done();
    }
  });
})();
