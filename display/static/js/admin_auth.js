/* Shared by the administration pages: the staff session (staff.js), API calls, form errors. */
(function () {
  "use strict";
  var $ = OW.$;
  var ADM = (window.ADM = { user: STAFF });

  ADM.api = function (method, path, body) { return STAFF.api(method, "/api/v1" + path, body); };

  ADM.message = function (el, ok, text) {
    el.classList.remove("notice-ok", "notice-error", "notice-info");
    el.classList.add("msg", "notice", ok === true ? "notice-ok" : ok === false ? "notice-error" : "notice-info");
    el.dataset.ok = ok === true ? "1" : ok === false ? "0" : "";
    el.textContent = text;
  };

  /* Clear a form's messages; show an error answer next to its field (or under the form). */
  ADM.clearErrors = function (form) {
    form.querySelectorAll("[data-error-for]").forEach(function (el) { el.textContent = ""; });
    form.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
    var msg = form.querySelector(".form-msg");
    if (msg) { msg.textContent = ""; msg.className = "form-msg msg"; msg.dataset.ok = ""; }
  };
  ADM.showResult = function (form, res, okText) {
    ADM.clearErrors(form);
    var msg = form.querySelector(".form-msg");
    if (res.ok) { if (msg) ADM.message(msg, true, okText); return true; }
    var err = (res.data && res.data.error) || { message: "HTTP " + res.status };
    var field = err.field && form.querySelector('[data-error-for="' + err.field + '"]');
    if (field) {
      field.textContent = err.message;
      field.parentNode.classList.add("has-error");
      var input = field.parentNode.querySelector("input, select, textarea");
      if (input) input.focus();
    }
    if (msg) ADM.message(msg, false, err.message);
    return false;
  };

  /* The page for the signed-in supervisor or admin (the server serves it to no one else). */
  ADM.start = function (ready) {
    var u = ADM.user;
    $("#who").textContent = (u.name || u.username) + " · " + (u.role === "admin" ? OW.t("管理员", "admin") : OW.t("主管", "supervisor") + " " + (u.hall || ""));
    document.body.dataset.view = "app";
    document.body.dataset.role = u.role;
    ready();
  };

  /* "12:05:33" style local time of an ISO moment. */
  ADM.time = function (iso) {
    if (!iso) return "—";
    var d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleString(OW.lang() === "en" ? "en-GB" : "zh-CN", { hour12: false });
  };
  ADM.minutes = function (s) {
    if (s === null || s === undefined) return "—";
    return Math.round(s / 60) + OW.t(" 分钟", " min");
  };
})();
