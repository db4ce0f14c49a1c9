/* The clerk's console: choose a window, then its desk as the server keeps it (the ticket at the window, held
   tickets, the line in call-next order), live over the socket; buttons follow what the server allows. */
(function () {
  "use strict";
  var h = OW.h, $ = OW.$, body = document.body;
  var PLACE = "ow.clerk.place";  // this PC's window (a preference, not a credential): a reload comes back to it
  var S = { hall: null, window: null, desk: null, line: null, lineAt: 0, board: null, services: [], socket: null,
            busy: false, loading: null, again: false, timer: null, calling: null, stats: null };
  var WORDS = {
    "call-next": ["叫号", "Call next"], "finish-and-call-next": ["办结并叫下一位", "Finish and call next"],
    call: ["指定叫号", "Call out of turn"], recall: ["重呼", "Recall"], start: ["开始办理", "Start"], finish: ["办结", "Finish"],
    "no-show": ["过号", "No-show"], hold: ["挂起", "Hold"], resume: ["恢复办理", "Resume"], transfer: ["转办", "Transfer"],
    pause: ["暂停服务", "Pause"], open: ["开窗", "Open"], close: ["关窗", "Close"]
  };
  // The clerk's side of a status (the citizen's page says 正在叫号，请前往窗口).
  var CLERK_STATUS = {
    called: ["已叫号，等待群众到窗口", "Called: waiting for the citizen to come"],
    serving: ["正在办理", "Serving"], held: ["已挂起（材料补正）", "On hold (materials)"],
    waiting: ["已回到等候队列", "Back in the line"], done: ["已办结", "Finished"],
    no_show: ["已过号未到", "Marked no-show"], cancelled: ["已取消", "Cancelled"]
  };
  var MARKS = { green: ["绿色通道", "green"], appointment: ["预约", "booked"] };

  function word(action) { var w = WORDS[action]; return OW.t(w[0], w[1]); }
  function clerkStatus(s) { var w = CLERK_STATUS[s]; return w ? OW.t(w[0], w[1]) : OW.statusText(s); }
  function base() { return "/api/v1/halls/" + encodeURIComponent(S.hall) + "/windows/" + S.window; }

  /* minutes:seconds of a number of seconds; "—" when there is none */
  function duration(s) {
    if (s === null || s === undefined || isNaN(s)) return "—";
    s = Math.max(0, Math.round(s));
    var m = Math.floor(s / 60), r = s % 60;
    return m + ":" + (r < 10 ? "0" : "") + r;
  }

  /* The text of a failed answer in the page's language; a network failure is said as such. */
  function failure(res) {
    if (res.status === 0) return OW.t("网络中断：无法连接服务器，请检查网络后重试", "Network down: cannot reach the server. Check the network and try again.");
    return (res.data && res.data.error && res.data.error.message) || ("HTTP " + res.status);
  }

  function view(name) {
    $("#view-setup").hidden = name !== "setup";
    $("#view-desk").hidden = name !== "desk";
    body.dataset.view = name;
    $("#change-window").hidden = name !== "desk";
    $("#at-window").textContent = name === "desk" ? S.hall + " / " + OW.t(S.window + " 号窗口", "window " + S.window) : "";
  }

  function message(el, ok, text) {
    el.className = "msg notice " + (ok === true ? "notice-ok" : ok === false ? "notice-error" : "notice-info");
    el.textContent = text;
  }

  /* --- choose a window ------------------------------------------------------------------------ */
  function setup(text) {
    leave();
    view("setup");
    if (text) message($("#setup-msg"), false, text); else $("#setup-msg").textContent = "";
    OW.api("GET", "/api/v1/halls").then(function (res) {
      if (!res.ok) { message($("#setup-msg"), false, failure(res)); return; }
      var halls = res.data.halls.filter(function (x) { return !STAFF.hall || x.code === STAFF.hall; });
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
      if (!res.ok) { message($("#setup-msg"), false, failure(res)); return; }
      OW.fill($("#window-select"), res.data.windows.map(function (w) {
        return h("option", { value: String(w.number), selected: w.number === S.window,
                             text: OW.windowName(w) + " · " + OW.windowState(w.state) });
      }));
    });
  }
  $("#hall-select").addEventListener("change", loadWindows);

  $("#setup-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    desk($("#hall-select").value, Number($("#window-select").value));
  });
  $("#change-window").addEventListener("click", function () { setup(); });

  function leave() {
    if (S.socket) { S.socket.disconnect(); S.socket = null; }
    S.desk = S.line = null;
  }

  /* --- the desk: always the server's ----------------------------------------------------------- */
  function desk(hall, number) {
    leave();
    S.hall = hall; S.window = number;
    try { localStorage.setItem(PLACE, JSON.stringify({ hall: hall, number: number })); } catch (e) { /* private mode */ }
    view("desk");
    render();
    refreshStats();
    OW.api("GET", "/api/v1/halls/" + encodeURIComponent(hall) + "/services").then(function (res) {
      if (res.ok) { S.services = res.data.services; renderTransferServices(); }
    });
    // A ticket event matters here when the ticket is at this window or held here; the line follows queue_changed.
    var concerns = function (t) {
      var d = S.desk, here = d ? d.held.map(function (x) { return x.number; }) : [];
      if (d && d.current) here.push(d.current.number);
      return !t || (t.window && t.window.number === S.window) || here.indexOf(t.number) >= 0;
    };
    S.socket = OW.live({ hall: hall }, {
      board: function (snap) { S.board = snap; refresh(); },  // on every (re)connect: nothing shown is stale
      window_updated: function (w) {
        if (S.board) S.board.windows = S.board.windows.map(function (x) { return x.number === w.number ? w : x; });
        if (w.number === S.window) later();
      },
      ticket_called: function (c) { if (concerns(c.ticket)) later(); },
      ticket_updated: function (t) { if (concerns(t)) later(); },
      queue_changed: later,
      error: function (e) { log(false, OW.errorText(e)); }
    });
  }

  function later() {
    clearTimeout(S.timer);
    S.timer = setTimeout(refresh, 200);  // one reload for a burst of events
  }

  /* The desk and the line again; resolves once what is shown is at least as new as the call. */
  function refresh() {
    if (S.loading) { S.again = true; return S.loading; }
    S.loading = load().then(function () {
      S.loading = null;
      if (S.again) { S.again = false; return refresh(); }
    });
    return S.loading;
  }

  function load() {
    var hall = S.hall, number = S.window;
    return Promise.all([STAFF.api("GET", base() + "/desk"), STAFF.api("GET", base() + "/queue")]).then(function (r) {
      if (hall !== S.hall || number !== S.window) return;
      if (!r[0].ok) {
        if (r[0].status === 403 || r[0].status === 404) { setup(failure(r[0])); return; }
        answer(false, failure(r[0]), true);
      } else {
        S.desk = r[0].data;
      }
      if (r[1].ok) { S.line = r[1].data; S.lineAt = Date.now(); }
      render();
      body.dataset.loads = String(Number(body.dataset.loads || 0) + 1);
    });
  }

  function can(action) {
    var d = S.desk;
    if (!d || S.busy) return false;
    var state = d.window.state, cur = d.current, open = state === "open";
    var allows = function (a) { return !!cur && cur.actions.indexOf(a) >= 0; };
    switch (action) {
      case "call-next": case "call": return open && !cur;
      case "finish-and-call-next": return open && allows("finish");
      case "resume": return !cur && d.held.length > 0;
      case "pause": return open;
      case "open": return state !== "open";
      case "close": return state !== "closed" && !cur;
      default: return allows(action);
    }
  }

  function render() {
    var d = S.desk, w = d && d.window;
    $("#desk-window-name").textContent = w ? OW.windowName(w) : OW.t(S.window + " 号窗口", "Window " + S.window);
    var badge = $("#desk-window-state");
    badge.textContent = w ? OW.windowState(w.state) : "";
    badge.className = "state-badge state-" + (w ? w.state : "unknown");
    body.dataset.windowState = w ? w.state : "";
    var t = d && d.current, svc = t && t.service;
    $("#cur-number").textContent = t ? t.number : "—";
    $("#cur-status").textContent = t ? clerkStatus(t.status)
      : !w ? "" : w.state === "open" ? OW.t("空闲：按 F1 叫号", "Free: press F1 to call")
      : w.state === "paused" ? OW.t("暂停服务中：按 F10 重新开窗", "Paused: press F10 to open again")
      : OW.t("窗口未开放：按 F10 开窗", "Window closed: press F10 to open");
    body.dataset.ticketStatus = t ? t.status : "";
    $("#cur-service").textContent = svc ? svc.name + " (" + svc.code + ")" : "";
    $("#cur-kind").textContent = svc && svc.kind ? (svc.kind === "instant" ? OW.t("即办件", "same-day") :
      OW.t("承诺件 · " + svc.time_limit_days + " 个工作日", "promised · " + svc.time_limit_days + " working days")) : "—";
    OW.fill($("#cur-materials"), svc && svc.materials ? svc.materials.map(function (m) { return h("li", { text: m }); }) : []);
    document.querySelectorAll(".act").forEach(function (b) { b.disabled = !can(b.dataset.action); });
    tick();
    renderLine();
    renderHeld();
    renderStats();
    renderKeys();
  }

  function tick() {
    var t = S.desk && S.desk.current;
    $("#cur-waited").textContent = t && t.issued_at ? OW.since(t.issued_at) : "—";
    var gone = (Date.now() - S.lineAt) / 1000;
    document.querySelectorAll("#waiting [data-waited]").forEach(function (el) {
      el.textContent = duration(Number(el.dataset.waited) + gone);
    });
  }
  setInterval(tick, 1000);

  function marks(t) {
    var out = [];
    if (MARKS[t.priority]) out.push(h("span", { class: "mark mark-" + t.priority, text: OW.t(MARKS[t.priority][0], MARKS[t.priority][1]) }));
    if (t.targeted) out.push(h("span", { class: "mark mark-sent", text: OW.t("转入", "sent here") }));
    if (t.aged) out.push(h("span", { class: "mark mark-aged", text: OW.t("久候", "long wait") }));
    if (t.status === "no_show") out.push(h("span", { class: "mark mark-missed", text: OW.t("过号", "missed") }));
    return out;
  }

  function lineRow(t, reason) {
    return h("li", { "data-number": t.number },
      h("b", { class: "line-number", text: t.number }),
      h("span", { class: "line-service", text: t.service.name, title: t.service.name }),
      t.waited_s !== undefined && t.status === "waiting" ? h("span", { class: "line-waited", "data-waited": String(t.waited_s), text: duration(t.waited_s) }) : null,
      marks(t),
      h("button", { type: "button", class: "line-call", disabled: !can("call"), text: OW.t("叫", "Call"),
                    title: OW.t("指定叫 " + t.number, "Call " + t.number + " out of turn"),
                    onclick: function () { openCall(t.number, reason(t)); } }));
  }

  function renderLine() {
    var l = S.line;
    $("#waiting-total").textContent = l ? String(l.total) : "0";
    OW.fill($("#waiting"), l && l.waiting.length ? l.waiting.map(function (t) {
      return lineRow(t, function (x) { return x.targeted ? "transfer_back" : x.priority === "appointment" ? "appointment" : x.priority === "green" ? "priority" : "other"; });
    }) : [h("li", { class: "empty", text: OW.t("暂无等候", "Nobody is waiting") })]);
    OW.fill($("#no-shows"), l && l.no_shows.length ? l.no_shows.map(function (t) {
      return lineRow(t, function () { return "no_show_return"; });
    }) : [h("li", { class: "empty", text: OW.t("无", "none") })]);
  }

  function renderHeld() {
    var held = S.desk ? S.desk.held : [];
    OW.fill($("#held"), held.length ? held.map(function (t) {
      return h("li", { "data-number": t.number }, h("b", { text: t.number }), h("span", { class: "line-service", text: t.service.name }),
        h("button", { type: "button", class: "line-call", disabled: !can("resume"), text: OW.t("恢复办理", "Resume"),
                      onclick: function () { act("resume", { number: t.number }); } }));
    }) : [h("li", { class: "empty", text: OW.t("无", "none") })]);
  }

  function renderStats() {
    var st = S.stats;
    $("#stat-count").textContent = st ? String(st.finished) : "0";
    $("#stat-avg").textContent = st && st.finished ? duration(st.service_mean_s) : "—";
  }

  function renderKeys() {
    OW.fill($("#keys"), Array.prototype.map.call(document.querySelectorAll(".act"), function (b) {
      return [h("dt", { text: b.dataset.key }), h("dd", { text: word(b.dataset.action) })];
    }).reduce(function (a, x) { return a.concat(x); }, []));
  }

  /* The server counts the clerk's day from the ticket history (all sign-ins, holds excluded). */
  function refreshStats() {
    STAFF.api("GET", "/api/v1/halls/" + encodeURIComponent(S.hall) + "/my-day").then(function (res) {
      if (res.ok) { S.stats = res.data; renderStats(); }
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

  /* --- actions -------------------------------------------------------------------------------- */
  function act(action, extra) {
    if (action === "transfer" && !extra) { openTransfer(); return; }
    answer(null, word(action) + OW.t("：正在发送…", ": sending…"), true);
    S.busy = true;
    render();
    STAFF.api("POST", base() + "/" + action, extra || {}).then(function (res) {
      if (res.ok && /finish/.test(action)) refreshStats();
      // the answer shows once the desk it leads to does: the next key acts on what is on screen
      return refresh().then(function () {
        S.busy = false;
        if (!res.ok) answer(false, word(action) + OW.t("失败：", " failed: ") + failure(res));
        else answer(true, done(action, res));
        render();
      });
    });
  }

  function done(action, res) {
    var d = res.data, ok = word(action) + OW.t("成功：", " done: ");
    if (res.status === 204) {
      return (action === "finish-and-call-next" ? OW.t("已办结；", "Finished; ") : "") + OW.t("当前无人等候", "Nobody is waiting");
    }
    if (["pause", "open", "close"].indexOf(action) >= 0) return ok + OW.t("窗口", "window ") + OW.windowState(d.state);
    var extra = action === "transfer" && d.target_window ? " → " + OW.windowName(d.target_window)
      : action === "transfer" ? " → " + d.service.name : "";
    return ok + d.number + " " + clerkStatus(d.status) + extra;
  }

  document.querySelectorAll(".act").forEach(function (b) {
    b.addEventListener("click", function () { act(b.dataset.action); });
  });

  document.addEventListener("keydown", function (ev) {
    if (body.dataset.view !== "desk") return;
    var key = (ev.ctrlKey ? "Ctrl+" : "") + (ev.shiftKey ? "Shift+" : "") + ev.key;
    var b = document.querySelector('.act[data-key="' + key + '"]');
    if (!b) return;
    ev.preventDefault();
    if (!b.disabled) b.click();
  });

  /* --- calling a chosen number, with the hall's reason ------------------------------------------ */
  function openCall(number, reason) {
    S.calling = number;
    $("#call-number").textContent = number;
    var reasons = S.line ? S.line.call_reasons : [];
    OW.fill($("#call-reason"), reasons.map(function (r) {
      return h("option", { value: r.code, text: OW.lang() === "en" ? r.name_en : r.name, selected: r.code === reason });
    }));
    $("#call-note").value = "";
    $("#transfer-form").hidden = true;
    $("#call-form").hidden = false;
    $("#call-reason").focus();
  }
  $("#call-cancel").addEventListener("click", function () { $("#call-form").hidden = true; });
  $("#call-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var extra = { number: S.calling, reason_code: $("#call-reason").value };
    var note = $("#call-note").value.trim();
    if (note) extra.reason = note;
    $("#call-form").hidden = true;
    act("call", extra);
  });

  /* --- transfer ------------------------------------------------------------------------------- */
  function openTransfer() {
    $("#call-form").hidden = true;
    $("#transfer-form").hidden = false;
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
    var target = to === "service" ? { service: $("#transfer-service").value } : { window: Number($("#transfer-window").value) };
    if ((to === "service" && !target.service) || (to === "window" && !target.window)) {
      answer(false, OW.t("请选择转办的事项或窗口", "Choose a service or a window to transfer to"));
      return;
    }
    $("#transfer-form").hidden = true;
    act("transfer", target);
  });

  OW.onLang(function () {
    if (body.dataset.view === "desk") { render(); view("desk"); }
    if (body.dataset.view === "setup") loadWindows();
  });

  // The window the clerk is signed in to (from the server), else this PC's window, else choose one.
  var place = STAFF.window;
  if (!place) { try { place = JSON.parse(localStorage.getItem(PLACE) || "null"); } catch (e) { place = null; } }
  if (place && (!STAFF.hall || place.hall === STAFF.hall)) desk(place.hall, place.number); else setup();
  window.OWClerk = S;
})();
