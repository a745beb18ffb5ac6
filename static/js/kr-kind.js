/* Key result forms show only the fields of the chosen kind (metric: unit, start, target;
   milestone: done; guardrail: side and threshold). Each field's widget says which kinds
   ask for it (data-kr-kinds, set by okrs.forms.KeyResultForm); the kind select
   (data-kr-kind) and its fields share the closest fieldset or form. Hidden fields are
   still submitted and the server still checks each kind's fields. No inline script: the
   CSP forbids it. */
(function () {
  "use strict";

  function fieldOf(el) { return el.closest(".field") || el; }

  function apply(select) {
    var box = select.closest("fieldset") || select.form;
    if (!box) return;
    var kind = select.value;
    box.querySelectorAll("[data-kr-kinds]").forEach(function (el) {
      if ((el.closest("fieldset") || el.form) !== box) return;
      fieldOf(el).hidden = el.dataset.krKinds.split(" ").indexOf(kind) === -1;
    });
    box.querySelectorAll("[data-label-guardrail]").forEach(function (el) {
      var label = el.id && box.querySelector('label[for="' + el.id + '"]');
      if (!label) return;
      var text = label.firstChild;  // the label's own words, before "(optional)"
      if (!text || text.nodeType !== 3) return;
      if (!el.dataset.labelDefault) el.dataset.labelDefault = text.nodeValue;
      text.nodeValue = kind === "guardrail" ? el.dataset.labelGuardrail + " "
                                            : el.dataset.labelDefault;
    });
    blankThreshold(box, kind);
  }

  // A new form's target (the model's default) is no guardrail threshold: emptied while
  // the kind is guardrail, put back when it is not, unless the person typed one.
  function blankThreshold(box, kind) {
    box.querySelectorAll("[data-guardrail-blank]").forEach(function (el) {
      if ((el.closest("fieldset") || el.form) !== box || el.dataset.typed) return;
      if (kind === "guardrail") {
        if (el.value !== "" && el.value === el.defaultValue) {
          el.dataset.guardrailBlank = el.value;
          el.value = "";
        }
      } else if (el.dataset.guardrailBlank && el.value === "") {
        el.value = el.dataset.guardrailBlank;
        el.dataset.guardrailBlank = "";
      }
    });
  }

  function applyAll(root) {
    (root || document).querySelectorAll("select[data-kr-kind]").forEach(apply);
  }

  document.addEventListener("DOMContentLoaded", function () { applyAll(document); });
  document.addEventListener("htmx:afterSettle", function (evt) { applyAll(evt.target); });
  document.addEventListener("input", function (evt) {
    if (evt.target.matches && evt.target.matches("[data-guardrail-blank]")) evt.target.dataset.typed = "1";
  });
  document.addEventListener("change", function (evt) {
    if (evt.target.matches && evt.target.matches("select[data-kr-kind]")) apply(evt.target);
  });
})();
