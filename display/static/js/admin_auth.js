/* Shared by the administration pages: sign-in (bearer token in sessionStorage), API calls, form errors. */
(function () {
  "use strict";
  var $ = OW.$, store = window.sessionStorage;
  var ADM = (window.ADM = {
    token: store.getItem("ow.admin.token"),
    user: JSON.parse(store.getItem("ow.admin.user") || "null")
  });

  ADM.api = function (method, path, body) {
    return OW.api(method, "/api/v1" + path, body, ADM.token).then(function (res) {
      if (res.status === 401) { ADM.signOut(); }
      return res;
    });
  };

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

  ADM.signOut = function () {
    store.removeItem("ow.admin.token"); store.removeItem("ow.admin.user");
    ADM.token = ADM.user = null;
    if (ADM.onSignOut) ADM.onSignOut();
  };

  /* Show the sign-in form until a supervisor or admin signs in, then call `ready`. */
  ADM.start = function (ready) {
    var login = $("#view-login");
    $("#logout").addEventListener("click", function () { ADM.signOut(); });
    ADM.onSignOut = function () { document.querySelectorAll("main").forEach(function (m) { m.hidden = true; }); login.hidden = false; $("#logout").hidden = true; $("#who").textContent = ""; document.body.dataset.view = "login"; };
    $("#login-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      ADM.message($("#login-msg"), null, OW.t("正在登录…", "Signing in…"));
      OW.api("POST", "/api/v1/auth/login", { username: $("#username").value.trim(), password: $("#password").value }).then(function (res) {
        if (!res.ok) { ADM.message($("#login-msg"), false, OW.t("登录失败：", "Sign-in failed: ") + res.data.error.message); return; }
        if (res.data.user.role === "clerk") { ADM.message($("#login-msg"), false, OW.t("需要主管或管理员账号", "This needs a supervisor or admin account")); return; }
        ADM.token = res.data.token; ADM.user = res.data.user;
        store.setItem("ow.admin.token", ADM.token); store.setItem("ow.admin.user", JSON.stringify(ADM.user));
        $("#password").value = ""; $("#login-msg").textContent = "";
        go();
      });
    });
    function go() {
      login.hidden = true;
      $("#logout").hidden = false;
      var u = ADM.user;
      $("#who").textContent = (u.name || u.username) + " · " + (u.role === "admin" ? OW.t("管理员", "admin") : OW.t("主管", "supervisor") + " " + (u.hall || ""));
      document.body.dataset.view = "app";
      document.body.dataset.role = u.role;
      ready();
    }
    if (ADM.token && ADM.user) go(); else ADM.onSignOut();
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
