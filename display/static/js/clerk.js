/* The clerk's console: sign in, pick a window, call and serve tickets; every server answer is shown. */
(function () {
  "use strict";
  var h = OW.h, $ = OW.$, body = document.body;
  var store = window.sessionStorage;
  var S = {
    token: store.getItem("ow.token"),
    user: JSON.parse(store.getItem("ow.user") || "null"),
    hall: store.getItem("ow.hall"),
    window: Number(store.getItem("ow.window")) || null,
    current: JSON.parse(store.getItem("ow.current") || "null"),
    held: JSON.parse(store.getItem("ow.held") || "[]"),
    stats: JSON.parse(store.getItem("ow.stats") || "null"),
    board: null, services: [], socket: null
  };
  var ACTION_WORDS = {
    "call-next": ["叫号", "Call next"], recall: ["重呼", "Recall"], start: ["开始办理", "Start"], finish: ["办结", "Finish"],
    "no-show": ["未到", "No-show"], hold: ["挂起", "Hold"], resume: ["恢复", "Resume"], transfer: ["转办", "Transfer"],
    pause: ["暂停", "Pause"], open: ["开窗", "Open"], close: ["关窗", "Close"]
  };
  var today = new Date().toDateString();
  if (!S.stats || S.stats.day !== today) S.stats = { day: today, count: 0, total_s: 0 };

  function save() {
    store.setItem("ow.current", JSON.stringify(S.current));
    store.setItem("ow.held", JSON.stringify(S.held));
    store.setItem("ow.stats", JSON.stringify(S.stats));
  }

  function view(name) {
    ["login", "setup", "desk"].forEach(function (n) { $("#view-" + n).hidden = n !== name; });
    body.dataset.view = name;
    $("#logout").hidden = name === "login";
    $("#change-window").hidden = name !== "desk";
    renderWho();
  }

  function renderWho() {
    var u = S.user;
    $("#who").textContent = u ? (u.name || u.username) + (S.window && body.dataset.view === "desk" ? " · " + S.hall + " / " + OW.t(S.window + " 号窗口", "window " + S.window) : "") : "";
  }

  function message(el, ok, text) {
    el.className = "msg notice " + (ok === true ? "notice-ok" : ok === false ? "notice-error" : "notice-info");
    el.textContent = text;
  }

  /* --- sign in and choose a window ---------------------------------------------------------- */
  $("#login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    message($("#login-msg"), null, OW.t("正在登录…", "Signing in…"));
    OW.api("POST", "/api/v1/auth/login", { username: $("#username").value.trim(), password: $("#password").value }).then(function (res) {
      if (!res.ok) { message($("#login-msg"), false, OW.t("登录失败：", "Sign-in failed: ") + res.data.error.message); return; }
      S.token = res.data.token; S.user = res.data.user;
      store.setItem("ow.token", S.token); store.setItem("ow.user", JSON.stringify(S.user));
      $("#password").value = "";
      $("#login-msg").textContent = "";
      setup();
    });
  });

  function setup() {
    view("setup");
    OW.api("GET", "/api/v1/halls").then(function (res) {
      if (!res.ok) { message($("#setup-msg"), false, res.data.error.message); return; }
      var halls = res.data.halls.filter(function (x) { return !S.user.hall || x.code === S.user.hall; });
      OW.fill($("#hall-select"), halls.map(function (x) {
        return h("option", { value: x.code, text: OW.lang() === "en" ? x.name_en : x.name, selected: x.code === S.hall });
      }));
      loadWindows();
    });
  }

  function loadWindows() {
    var code = $("#hall-select").value;
    if (!code) return;
    OW.api("GET", "/api/v1/halls/" + encodeURIComponent(code) + "/board").then(function (res) {
      if (!res.ok) { message($("#setup-msg"), false, res.data.error.message); return; }
      OW.fill($("#window-select"), res.data.windows.map(function (w) {
        return h("option", { value: String(w.number), selected: w.number === S.window,
                             text: OW.windowName(w) + " · " + OW.windowState(w.state) });
      }));
    });
  }
  $("#hall-select").addEventListener("change", loadWindows);

  $("#setup-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var hall = $("#hall-select").value, win = Number($("#window-select").value);
    if (hall !== S.hall || win !== S.window) { S.current = null; S.held = []; save(); }
    S.hall = hall; S.window = win;
    store.setItem("ow.hall", hall); store.setItem("ow.window", String(win));
    desk();
  });

  $("#logout").addEventListener("click", function () {
    ["ow.token", "ow.user", "ow.hall", "ow.window", "ow.current", "ow.held"].forEach(function (k) { store.removeItem(k); });
    S.token = S.user = S.hall = S.window = S.current = null; S.held = [];
    if (S.socket) { S.socket.disconnect(); S.socket = null; }
    view("login");
  });
  $("#change-window").addEventListener("click", function () {
    if (S.socket) { S.socket.disconnect(); S.socket = null; }
    setup();
  });

  /* --- the desk ----------------------------------------------------------------------------- */
  function myWindow() {
    if (!S.board) return null;
    return S.board.windows.filter(function (w) { return w.number === S.window; })[0] || null;
  }

  function desk() {
    view("desk");
    refreshStats();
    renderDesk();
    OW.api("GET", "/api/v1/halls/" + encodeURIComponent(S.hall) + "/services").then(function (res) {
      if (res.ok) { S.services = res.data.services; renderTransferServices(); }
    });
    S.socket = OW.live({ hall: S.hall }, {
      board: function (snap) { S.board = snap; reconcile(); renderDesk(); },
      window_updated: function (w) {
        if (!S.board) return;
        S.board.windows = S.board.windows.map(function (x) { return x.number === w.number ? w : x; });
        if (w.number === S.window) reconcile();
        renderDesk();
      },
      queue_changed: function (d) { if (S.board) { S.board.queues = d.queues; renderWaiting(); } },
      error: function (e) { log(false, OW.errorText(e) || "socket error"); }
    }, { auth: { token: S.token } });
  }

  // the window's own state is the truth: a ticket finished elsewhere (another tab) leaves this desk
  function reconcile() {
    var w = myWindow();
    if (!w) return;
    if (!w.ticket) S.current = null;
    else if (!S.current || S.current.number !== w.ticket.number) S.current = { number: w.ticket.number, status: w.ticket.status, partial: true };
    else S.current.status = w.ticket.status;
    save();
  }

  function renderDesk() {
    var w = myWindow();
    $("#desk-window-name").textContent = w ? OW.windowName(w) : OW.t(S.window + " 号窗口", "Window " + S.window);
    var badge = $("#desk-window-state");
    badge.textContent = w ? OW.windowState(w.state) : "";
    badge.className = "state-badge state-" + (w ? w.state : "unknown");
    body.dataset.windowState = w ? w.state : "";
    var t = S.current;
    $("#cur-number").textContent = t ? t.number : "—";
    $("#cur-status").textContent = t ? OW.statusText(t.status) : OW.t("空闲：按 F1 叫号", "Free: press F1 to call");
    $("#cur-service").textContent = t && t.service ? t.service.name + " (" + t.service.code + ")" : "";
    var svc = t && t.service;
    $("#cur-kind").textContent = svc && svc.kind ? (svc.kind === "instant" ? OW.t("即办件", "same-day") :
      OW.t("承诺件 · " + svc.time_limit_days + " 个工作日", "promised · " + svc.time_limit_days + " working days")) : "—";
    OW.fill($("#cur-materials"), svc && svc.materials ? svc.materials.map(function (m) { return h("li", { text: m }); }) : []);
    tickWaited();
    renderWaiting();
    renderHeld();
    renderStats();
    renderWho();
  }

  function tickWaited() {
    var t = S.current;
    $("#cur-waited").textContent = t && t.issued_at ? OW.since(t.issued_at) : "—";
  }
  setInterval(tickWaited, 1000);

  function renderWaiting() {
    var w = myWindow();
    if (!w || !S.board) { OW.fill($("#waiting"), []); return; }
    var total = 0;
    var rows = S.board.queues.filter(function (q) { return w.queues.indexOf(q.prefix) >= 0; }).map(function (q) {
      total += q.waiting;
      return h("li", { "data-queue": q.prefix }, h("span", { class: "q-prefix", text: q.prefix }),
        h("span", { class: "q-name", text: OW.lang() === "en" ? q.name_en : q.name }), h("b", { text: String(q.waiting) }));
    });
    rows.push(h("li", { class: "total" }, h("span", { text: OW.t("合计", "Total") }), h("b", { id: "waiting-total", text: String(total) })));
    OW.fill($("#waiting"), rows);
  }

  function renderHeld() {
    OW.fill($("#held"), S.held.length ? S.held.map(function (n) { return h("li", { text: n }); })
      : [h("li", { class: "empty", text: OW.t("无", "none") })]);
  }

  function renderStats() {
    $("#stat-count").textContent = String(S.stats.count);
    $("#stat-avg").textContent = S.stats.count && S.stats.total_s !== null
      ? OW.since(new Date(0).toISOString(), S.stats.total_s * 1000 / S.stats.count) : "—";
  }

  /* The server counts the clerk's day from the ticket history (all sign-ins, holds excluded). */
  function refreshStats() {
    if (!S.hall || !S.token) return;
    OW.api("GET", "/api/v1/halls/" + encodeURIComponent(S.hall) + "/my-day", undefined, S.token).then(function (res) {
      if (!res.ok) return;
      S.stats = { day: today, count: res.data.finished,
                  total_s: res.data.service_mean_s === null ? null : res.data.service_mean_s * res.data.finished };
      save();
      renderStats();
    });
  }

  function log(ok, text) {
    var time = new Date().toTimeString().slice(0, 8);
    var list = $("#log");
    list.insertBefore(h("li", { class: ok ? "ok" : "err" }, h("span", { class: "log-time", text: time }), text), list.firstChild);
    while (list.children.length > 30) list.removeChild(list.lastChild);
  }

  function answer(ok, text, quiet) {
    var box = $("#answer");
    box.className = "answer " + (ok ? "notice notice-ok" : ok === false ? "notice notice-error" : "notice notice-info");
    box.textContent = text;
    box.dataset.ok = ok === true ? "1" : ok === false ? "0" : "";
    if (!quiet) log(ok !== false, text);
  }

  function word(action) { var w = ACTION_WORDS[action]; return OW.t(w[0], w[1]); }

  function act(action, extra) {
    if (action === "transfer" && !extra) { openTransfer(); return; }
    var path = "/api/v1/halls/" + encodeURIComponent(S.hall) + "/windows/" + S.window + "/" + action;
    answer(null, word(action) + OW.t("：正在发送…", ": sending…"), true);
    document.querySelectorAll(".act").forEach(function (b) { b.disabled = true; });
    OW.api("POST", path, extra || {}, S.token).then(function (res) {
      document.querySelectorAll(".act").forEach(function (b) { b.disabled = false; });
      if (res.status === 401) {
        answer(false, OW.t("登录已失效，请重新登录：", "Signed out, please sign in again: ") + res.data.error.message);
        return;
      }
      if (!res.ok) { answer(false, word(action) + OW.t(" 失败：", " failed: ") + res.data.error.message); return; }
      applyResult(action, res);
    });
  }

  function applyResult(action, res) {
    var d = res.data;
    if (action === "call-next" && res.status === 204) { answer(null, OW.t("当前没有等候的号", "Nobody is waiting")); return; }
    if (["pause", "open", "close"].indexOf(action) >= 0) {
      if (S.board) S.board.windows = S.board.windows.map(function (x) { return x.number === d.number ? d : x; });
      answer(true, word(action) + OW.t(" 成功：窗口", " done: window ") + OW.windowState(d.state));
      renderDesk();
      return;
    }
    var n = d.number;
    if (action === "finish") {
      S.current = null;
      refreshStats();
    } else if (action === "no-show" || action === "transfer") {
      S.current = null;
    } else if (action === "hold") {
      S.current = null;
      if (S.held.indexOf(n) < 0) S.held.push(n);
    } else {
      S.current = d;
      if (action === "resume") S.held = S.held.filter(function (x) { return x !== n; });
    }
    save();
    var extra = action === "transfer" && d.target_window ? " → " + OW.windowName(d.target_window)
      : action === "transfer" ? " → " + d.service.name : "";
    answer(true, word(action) + OW.t(" 成功：", " done: ") + n + " " + OW.statusText(d.status) + extra);
    renderDesk();
  }

  document.querySelectorAll(".act").forEach(function (b) {
    b.addEventListener("click", function () { act(b.dataset.action); });
  });

  document.addEventListener("keydown", function (ev) {
    if (body.dataset.view !== "desk") return;
    var key = (ev.ctrlKey ? "Ctrl+" : "") + ev.key;
    var b = document.querySelector('.act[data-key="' + key + '"]');
    if (!b) return;
    ev.preventDefault();
    if (!b.disabled) b.click();
  });

  /* --- transfer ----------------------------------------------------------------------------- */
  function openTransfer() {
    var f = $("#transfer-form");
    f.hidden = false;
    OW.fill($("#transfer-window"), (S.board ? S.board.windows : []).filter(function (w) { return w.number !== S.window; }).map(function (w) {
      return h("option", { value: String(w.number), text: OW.windowName(w) + " · " + OW.windowState(w.state) });
    }));
    renderTransferServices();
    $("#transfer-filter").focus();
  }

  function renderTransferServices() {
    var q = $("#transfer-filter").value.trim().toLowerCase();
    var list = S.services.filter(function (s) {
      return !q || s.name.toLowerCase().indexOf(q) >= 0 || s.code.toLowerCase().indexOf(q) >= 0 || (s.initials || "").indexOf(q) >= 0;
    });
    OW.fill($("#transfer-service"), list.map(function (s, i) {
      return h("option", { value: s.code, text: s.code + " " + s.name + " [" + s.queue + "]", selected: i === 0 });
    }));
  }
  $("#transfer-filter").addEventListener("input", function () {
    renderTransferServices();
    document.querySelector("input[name=to][value=service]").checked = true;
  });
  $("#transfer-window").addEventListener("change", function () { document.querySelector("input[name=to][value=window]").checked = true; });
  $("#transfer-cancel").addEventListener("click", function () { $("#transfer-form").hidden = true; });
  $("#transfer-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var to = document.querySelector("input[name=to]:checked").value;
    var body_ = to === "service" ? { service: $("#transfer-service").value } : { window: Number($("#transfer-window").value) };
    if ((to === "service" && !body_.service) || (to === "window" && !body_.window)) {
      answer(false, OW.t("请选择转办的事项或窗口", "Choose a service or a window to transfer to"));
      return;
    }
    $("#transfer-form").hidden = true;
    act("transfer", body_);
  });

  OW.onLang(function () { if (body.dataset.view === "desk") renderDesk(); if (body.dataset.view === "setup") loadWindows(); });

  // Signed in on /login (a page session): take a token for this tab's API calls and socket.
  function fromPageSession() {
    return fetch("/api/v1/auth/me", { headers: { "Accept": "application/json" } }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (me) {
      if (!me || !me.csrf_token) return false;
      return fetch("/api/v1/auth/session-token", { method: "POST", headers: { "Accept": "application/json", "X-CSRF-Token": me.csrf_token } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (res) {
          if (!res) return false;
          S.token = res.token; S.user = res.user;
          store.setItem("ow.token", S.token); store.setItem("ow.user", JSON.stringify(S.user));
          return true;
        });
    }, function () { return false; });
  }

  if (S.token) { if (!S.hall || !S.window) setup(); else desk(); }
  else fromPageSession().then(function (ok) { if (ok) setup(); else view("login"); });
  window.OWClerk = S;
})();
