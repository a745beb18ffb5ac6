/* The Django admin's autocomplete fields (select2) name their combobox after the rendered
   choice, which is empty until something is chosen (axe aria-input-field-name): each gets the
   text of its field's <label> as its name (issue 23). */
(function () {
  "use strict";
  function nameAutocompletes() {
    document.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      var label = select.id && document.querySelector("label[for='" + select.id + "']");
      var container = select.nextElementSibling;
      if (!label || !container || !container.classList.contains("select2")) return;
      var name = label.textContent.replace(/:\s*$/, "").trim();
      container.querySelectorAll("[role=combobox], [role=textbox]").forEach(function (el) {
        if (!el.getAttribute("aria-label")) el.setAttribute("aria-label", name);
      });
    });
  }
  // select2 builds its widgets in a jQuery ready handler (asynchronous in jQuery 3) and again
  // for each added inline row: name them whenever the page's markup changes.
  var pending = false;
  function soon() {
    if (pending) return;
    pending = true;
    window.setTimeout(function () { pending = false; nameAutocompletes(); }, 0);
  }
  document.addEventListener("DOMContentLoaded", function () {
    nameAutocompletes();
    if (window.MutationObserver) new MutationObserver(soon).observe(document.body, { childList: true, subtree: true });
  });
  window.addEventListener("load", nameAutocompletes);
})();
