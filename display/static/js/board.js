/* The hall board: latest call, recent calls, windows and waiting counts, live; voice in call order. */
(function () {
  "use strict";
  var h = OW.h, $ = OW.$;
  var body = document.body;
  var hall = body.dataset.hall;
  var RECENT = 10;
  var state = { recent: [], windows: {}, order: [], queues: [], latest: null };
  var unlock = $("#sound-unlock");
  var announcer = new OWAnnouncer(function () { unlock.hidden = false; });
  window.OWBoard = { state: state, announcer: announcer };

  unlock.addEventListener("click", function () { unlock.hidden = true; announcer.pump(); });
  OW.clock($("#clock"), body.dataset.timezone);

  function hhmm(iso) { return iso ? iso.slice(11, 16) : ""; }
  function callText(call) {
    var texts = call.texts || {};
    if (OW.lang() === "en" && texts.en) return texts.en;
    return call.text || OW.t("请 " + call.number + " 号到 " + OW.windowName(call.window) + " 办理",
                             "Number " + call.number + ", please go to " + OW.windowName(call.window));
  }

  function renderLatest() {
    var call = state.latest, box = $("#latest");
    box.classList.toggle("is-empty", !call);
    $("#latest-number").textContent = call ? call.number : "—";
    $("#latest-window").textContent = call ? OW.windowName(call.window) : OW.t("暂无叫号", "No calls yet");
    $("#latest-text").textContent = call ? callText(call) : "";
  }

  function renderRecent() {
    OW.fill($("#recent"), state.recent.slice(0, RECENT).map(function (c, i) {
      return h("li", { class: "recent-item" + (i === 0 ? " is-latest" : "") },
        h("span", { class: "recent-number", text: c.number }),
        h("span", { class: "recent-window", text: OW.windowName(c.window) }),
        h("span", { class: "recent-time", text: hhmm(c.at) + (c.recall ? OW.t(" 重呼", " recall") : "") }));
    }));
    if (!state.recent.length) OW.fill($("#recent"), h("li", { class: "empty", text: OW.t("今天还没有叫号", "No calls today yet") }));
  }

  var SHORT = { called: ["叫号中", "Calling"], serving: ["办理中", "Serving"] };
  function shortStatus(t) {
    if (!t) return OW.t("空闲", "Free");
    var w = SHORT[t.status];
    return w ? OW.t(w[0], w[1]) : OW.statusText(t.status);
  }

  function renderWindows() {
    var shown = state.order.map(function (n) { return state.windows[n]; }).filter(function (w) { return w.state !== "closed"; });
    OW.fill($("#windows"), shown.map(function (w) {
      var t = w.ticket;
      return h("div", { class: "window-card state-" + w.state, "data-window": String(w.number) },
        h("div", { class: "window-name", text: OW.windowName(w) }),
        h("div", { class: "window-number", text: w.state === "paused" ? OW.t("暂停", "Paused") : (t ? t.number : "—") }),
        h("div", { class: "window-status", text: w.state === "paused" ? OW.windowState("paused") : shortStatus(t) }));
    }));
    if (!shown.length) OW.fill($("#windows"), h("p", { class: "empty", text: OW.t("暂无开放窗口", "No window is open") }));
  }

  function renderQueues() {
    OW.fill($("#queues"), state.queues.map(function (q) {
      return h("div", { class: "queue-row", "data-queue": q.prefix },
        h("span", { class: "queue-prefix", text: q.prefix }),
        h("span", { class: "queue-name", text: OW.lang() === "en" ? q.name_en : q.name }),
        h("span", { class: "queue-count" }, h("b", { text: String(q.waiting) }), OW.t(" 人", " waiting")));
    }));
  }

  function renderAll() { renderLatest(); renderRecent(); renderWindows(); renderQueues(); }

  function flash() {
    var box = $("#latest");
    box.classList.remove("flash");
    void box.offsetWidth; // restart the animation on every call
    box.classList.add("flash");
  }

  OW.live({ hall: hall }, {
    board: function (snap) {
      state.recent = snap.recent_calls.map(function (c) {
        return { number: c.number, window: c.window, at: c.at, recall: c.recall };
      });
      state.windows = {};
      state.order = snap.windows.map(function (w) { state.windows[w.number] = w; return w.number; });
      state.queues = snap.queues;
      var last = state.recent[0];
      // keep the spoken text of the latest call when the snapshot repeats it
      if (last && !(state.latest && state.latest.number === last.number && state.latest.window.number === last.window.number)) {
        state.latest = { number: last.number, window: last.window, text: null, texts: {} };
      } else if (!last) {
        state.latest = null;
      }
      renderAll();
      body.dataset.synced = String(Number(body.dataset.synced || 0) + 1);
    },
    ticket_called: function (p) {
      var call = { number: p.ticket.number, window: p.window, at: p.ticket.called_at, recall: p.recall_count > 0,
                   text: p.announcement && p.announcement.text, texts: (p.announcement && p.announcement.texts) || {},
                   audio_url: p.announcement && p.announcement.audio_url };
      state.recent.unshift(call);
      state.recent.length = Math.min(state.recent.length, RECENT);
      state.latest = call;
      var w = state.windows[p.window.number];
      if (w) w.ticket = { number: p.ticket.number, status: p.ticket.status };
      renderLatest(); renderRecent(); renderWindows();
      flash();
      announcer.enqueue(call);
    },
    window_updated: function (w) {
      if (!state.windows[w.number]) state.order.push(w.number);
      state.windows[w.number] = w;
      renderWindows();
    },
    ticket_updated: function (t) {
      Object.keys(state.windows).forEach(function (n) {
        var w = state.windows[n];
        if (w.ticket && w.ticket.number === t.number && t.window && t.window.number === w.number) w.ticket.status = t.status;
      });
      renderWindows();
    },
    queue_changed: function (data) { state.queues = data.queues; renderQueues(); }
  });
  OW.onLang(renderAll);
  renderAll();
})();
