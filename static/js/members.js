// Members page (issue 14, defect 12): a role changes only after the admin confirms it
// (an undo follows on the page), and a new invitation link can be copied.
(function () {
  "use strict";
  var _ = window.gettext || function (text) { return text; };
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\((\w+)\)s/g, function (all, name) { return values[name]; });
  };
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (!form.classList || !form.classList.contains("role-form")) return;
    var select = form.querySelector("select[name=role]");
    var chosen = select.options[select.selectedIndex].text;
    if (chosen === form.dataset.current) {
      evt.preventDefault();
      window.alert(interpolate(_("%(person)s already has the role “%(role)s”."),
                               { person: form.dataset.person, role: chosen }, true));
      return;
    }
    if (!window.confirm(interpolate(_("Change the role of %(person)s from “%(current)s” to “%(role)s”?"),
                                    { person: form.dataset.person, current: form.dataset.current,
                                      role: chosen }, true))) {
      evt.preventDefault();
    }
  });
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest ? evt.target.closest("[data-copy]") : null;
    if (!button) return;
    var field = document.querySelector(button.dataset.copy);
    if (!field) return;
    field.select();
    var done = function () { button.textContent = _("Copied"); };
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
