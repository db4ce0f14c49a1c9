/* A form's errors next to their fields, in the page language: the server's `field` picks the place. */
(function () {
  "use strict";

  /* Errors shown in `root`: a field's error in its [data-field-error="<field>"] box, any other in `general`. */
  OW.fieldErrors = function (root, general, prefix) {
    var current = null;
    function boxFor(err) {
      return (err && err.field && root.querySelector('[data-field-error="' + err.field + '"]')) || general;
    }
    function render() {
      root.querySelectorAll("[data-field-error]").forEach(function (b) { b.hidden = true; });
      general.hidden = true;
      root.querySelectorAll(".field.is-wrong").forEach(function (f) { f.classList.remove("is-wrong"); });
      if (!current) return;
      var box = boxFor(current);
      box.hidden = false;
      box.textContent = (box === general && prefix ? OW.t(prefix[0], prefix[1]) : "") + OW.errorText(current);
      var input = current.field && root.querySelector('[data-field="' + current.field + '"]');
      if (input) { input.classList.add("is-wrong"); input.setAttribute("aria-invalid", "true"); }
    }
    OW.onLang(render);
    return {
      show: function (err) { current = err; render(); },
      clear: function () {
        current = null;
        root.querySelectorAll("[aria-invalid]").forEach(function (i) { i.removeAttribute("aria-invalid"); });
        render();
      },
      field: function () { return current && current.field; }
    };
  };
})();
