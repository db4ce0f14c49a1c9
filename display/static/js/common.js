/* Shared by every OneWindow page: language switch, DOM helpers, words, the live connection. */
(function () {
  "use strict";
  var OW = (window.OW = {});
  var KEY = "onewindow.lang";
  var langListeners = [];

  OW.lang = function () {
    try { return localStorage.getItem(KEY) === "en" ? "en" : "zh"; } catch (e) { return "zh"; }
  };
  OW.t = function (zh, en) { return OW.lang() === "en" ? en : zh; };
  OW.onLang = function (fn) { langListeners.push(fn); };

  function applyLang() {
    var en = OW.lang() === "en";
    document.documentElement.lang = en ? "en" : "zh-CN";
    document.querySelectorAll("[data-en]").forEach(function (el) {
      if (el.dataset.zh === undefined) el.dataset.zh = el.textContent;
      el.textContent = en ? el.dataset.en : el.dataset.zh;
    });
    document.querySelectorAll("[data-en-placeholder]").forEach(function (el) {
      if (el.dataset.zhPlaceholder === undefined) el.dataset.zhPlaceholder = el.placeholder;
      el.placeholder = en ? el.dataset.enPlaceholder : el.dataset.zhPlaceholder;
    });
    document.querySelectorAll("[data-lang-toggle]").forEach(function (b) {
      b.setAttribute("aria-label", en ? "切换到中文" : "Switch to English");
      b.classList.toggle("is-en", en);
    });
    if (document.body.dataset.titleEn) {
      if (document.body.dataset.titleZh === undefined) document.body.dataset.titleZh = document.title;
      document.title = en ? document.body.dataset.titleEn : document.body.dataset.titleZh;
    }
    langListeners.forEach(function (fn) { fn(); });
  }
  OW.setLang = function (lang) {
    try { localStorage.setItem(KEY, lang === "en" ? "en" : "zh"); } catch (e) { /* private mode */ }
    applyLang();
  };
  OW.applyLang = applyLang;

  /* h("div", {class: "x", text: "..."}, child...) builds an element without any HTML parsing. */
  OW.h = function (tag, attrs) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === "text") el.textContent = v;
      else if (k === "class") el.className = v;
      else if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), v);
      else if (k.slice(0, 5) === "data-") el.setAttribute(k, v);
      else if (k in el && typeof v !== "string") el[k] = v;
      else el.setAttribute(k, v === true ? "" : v);
    });
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined || c === false) continue;
      (Array.isArray(c) ? c : [c]).forEach(function (x) {
        if (x !== null && x !== undefined && x !== false) el.appendChild(typeof x === "string" ? document.createTextNode(x) : x);
      });
    }
    return el;
  };
  OW.$ = function (sel, root) { return (root || document).querySelector(sel); };
  OW.fill = function (el, children) { el.replaceChildren.apply(el, [].concat(children || []).filter(Boolean)); };

  OW.STATUS = {
    waiting: ["排队等候中", "Waiting"],
    called: ["正在叫号，请前往窗口", "Called: please go to the window"],
    serving: ["正在办理", "Being served"],
    held: ["已挂起（材料补正）", "On hold (supplement materials)"],
    done: ["已办结", "Done"],
    no_show: ["过号未到", "Missed (no-show)"],
    cancelled: ["已取消", "Cancelled"]
  };
  OW.statusText = function (s) { var w = OW.STATUS[s]; return w ? OW.t(w[0], w[1]) : s; };
  OW.WINDOW_STATE = { open: ["服务中", "Open"], paused: ["暂停服务", "Paused"], closed: ["未开放", "Closed"] };
  OW.windowState = function (s) { var w = OW.WINDOW_STATE[s]; return w ? OW.t(w[0], w[1]) : s; };
  OW.windowName = function (w) { return w ? (OW.lang() === "en" && w.name_en ? w.name_en : w.name) : ""; };

  /* An estimate {low_s, high_s} as whole minutes, e.g. "约 4–9 分钟". */
  OW.waitText = function (est) {
    if (!est) return OW.t("—", "—");
    var lo = Math.floor(est.low_s / 60), hi = Math.max(lo, Math.ceil(est.high_s / 60));
    if (hi <= 0) return OW.t("即将叫号", "any moment now");
    if (lo === hi) return OW.t("约 " + hi + " 分钟", "about " + hi + " min");
    return OW.t("约 " + lo + "–" + hi + " 分钟", "about " + lo + "–" + hi + " min");
  };

  /* Minutes and seconds since an ISO time, e.g. "12:05". */
  OW.since = function (iso, now) {
    if (!iso) return "—";
    var s = Math.max(0, Math.floor(((now || Date.now()) - Date.parse(iso)) / 1000));
    var m = Math.floor(s / 60), r = s % 60;
    return m + ":" + (r < 10 ? "0" : "") + r;
  };

  OW.clock = function (el, timezone) {
    var fmt;
    try {
      fmt = new Intl.DateTimeFormat("zh-CN", { timeZone: timezone || "Asia/Shanghai", hour: "2-digit", minute: "2-digit",
        second: "2-digit", year: "numeric", month: "2-digit", day: "2-digit", weekday: "short", hour12: false });
    } catch (e) { fmt = new Intl.DateTimeFormat("zh-CN", { hour12: false }); }
    function tick() { el.textContent = fmt.format(new Date()); }
    tick();
    setInterval(tick, 1000);
  };

  /* JSON over HTTP; resolves {ok, status, data}; an error answer carries data.error.message. */
  /* A registered kiosk, board or window screen opens its page with ?device=<token>. */
  OW.device = new URLSearchParams(window.location.search).get("device");

  /* The text of an error (or an import row error) in the page language: message_zh on Chinese pages when sent. */
  OW.errorText = function (err) {
    if (!err) return "";
    // message_en keeps the English after OW.api put the page language in message, so a switch can re-render it
    var en = err.message_en || err.message || "";
    return OW.lang() !== "en" ? err.message_zh || en : en;
  };

  OW.api = function (method, path, body, token) {
    var headers = { "Accept": "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers["Authorization"] = "Bearer " + token;
    else if (OW.device) headers["Authorization"] = "Device " + OW.device;
    else if (OW.csrf) headers["X-CSRF-Token"] = OW.csrf;  // a staff page: the session cookie plus its CSRF token
    return fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (r) {
        if (r.status === 204) return { ok: true, status: 204, data: null };
        return r.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
          if (!r.ok && !(data && data.error)) data = { error: { code: "http_" + r.status, message: "The server could not answer (" + r.status + "); try again shortly", message_zh: "服务器暂时无法处理（" + r.status + "），请稍后再试" } };
          // The page language: the server sends message (English) and message_zh (Chinese).
          if (data && data.error) {
            data.error.message_en = data.error.message_en || data.error.message;
            data.error.message = OW.errorText(data.error);
          }
          return { ok: r.ok, status: r.status, data: data };
        });
      }, function (err) {
        // the browser's own words ("Failed to fetch") are English whatever the page: say it in the page's language
        var error = { code: "network", message_en: "Cannot reach the server; check the network and try again", message_zh: "无法连接服务器，请检查网络后重试" };
        error.message = OW.errorText(error);
        return { ok: false, status: 0, data: { error: error } };
      });
  };

  /* A live subscription: subscribes on every connect and on "resync"; shows the offline mark. */
  OW.live = function (subscription, handlers, options) {
    var defaults = { reconnectionDelay: 500, reconnectionDelayMax: 3000, timeout: 5000 };
    if (OW.device) defaults.auth = { device: OW.device };
    var socket = io(Object.assign(defaults, options || {}));
    function online(yes) {
      document.body.classList.toggle("is-offline", !yes);
      document.body.dataset.online = yes ? "1" : "0";
    }
    online(false);
    socket.on("connect", function () { socket.emit("subscribe", subscription); });
    socket.on("disconnect", function () { online(false); });
    socket.on("connect_error", function () { online(false); });
    socket.on("resync", function () { socket.emit("subscribe", subscription); });
    Object.keys(handlers).forEach(function (name) {
      socket.on(name, function (data) {
        if (name === "board" || name === "ticket") online(true);
        handlers[name](data);
      });
    });
    return socket;
  };

  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("[data-lang-toggle]");
    if (b) OW.setLang(OW.lang() === "en" ? "zh" : "en");
  });
  applyLang();
})();
