/* The hall board: latest call, recent calls, windows and waiting counts, live; voice in call order.
   Windows and queues that do not fit on the screen are shown page by page (nothing is cut off). */
(function () {
  "use strict";
  var h = OW.h, $ = OW.$;
  var body = document.body;
  var hall = body.dataset.hall;
  var RECENT = 10, PAGE_S = 8;
  var state = { recent: [], windows: {}, order: [], queues: [], latest: null };
  var unlock = $("#sound-unlock");
  var announcer = new OWAnnouncer(function () { unlock.hidden = false; });

  unlock.addEventListener("click", function () { unlock.hidden = true; announcer.pump(); });
  OW.clock($("#clock"), body.dataset.timezone);

  function windowWord(n) { return OW.t(n + " 号窗口", "Window " + n); }
  /* The written line under the number (the spoken text spells digits out, so it is not shown). */
  function writtenText(call) {
    var w = call.written || {};
    return (OW.lang() === "en" ? w.en : w.zh) || call.number + " " + OW.t("请到 ", "→ ") + windowWord(call.window.number);
  }
  function recallText(n) { return OW.t("再次呼叫 ×" + n, "Recall ×" + n); }

  /* How many of a box's children lie wholly inside it (they are laid out in order). */
  function fitting(box) {
    var limit = box.getBoundingClientRect(), n = 0;
    for (var i = 0; i < box.children.length; i++) {
      var r = box.children[i].getBoundingClientRect();
      if (r.bottom > limit.bottom + 0.5 || r.right > limit.right + 0.5) break;
      n++;
    }
    return n;
  }

  /* A box shown page by page: each page holds the items that fit, measured as laid out. */
  function Pager(box, mark, build, empty, onShow) {
    this.box = box; this.mark = mark; this.build = build; this.empty = empty; this.onShow = onShow || function () {};
    this.items = []; this.pages = [[0, 0]]; this.page = 0;
  }
  Pager.prototype.set = function (items) { this.items = items; this.layout(); };
  Pager.prototype.layout = function () {
    var pages = [], start = 0, n = this.items.length;
    while (start < n) {
      OW.fill(this.box, this.items.slice(start).map(this.build));
      var fit = Math.max(1, fitting(this.box));  // a single item too large still gets a page of its own
      pages.push([start, start + fit]);
      start += fit;
    }
    this.pages = pages.length ? pages : [[0, 0]];
    this.show(Math.min(this.page, this.pages.length - 1));
  };
  Pager.prototype.show = function (i) {
    var p = this.pages[i];
    this.page = i;
    OW.fill(this.box, this.items.length ? this.items.slice(p[0], p[1]).map(this.build) : this.empty());
    this.box.dataset.page = String(i + 1);
    this.box.dataset.pages = String(this.pages.length);
    this.mark.hidden = this.pages.length < 2;
    this.box.parentNode.classList.toggle("is-paged", this.pages.length > 1);  // then its height stays put
    this.mark.textContent = (i + 1) + "/" + this.pages.length;
    this.onShow();
  };
  Pager.prototype.next = function () { if (this.pages.length > 1) this.show((this.page + 1) % this.pages.length); };

  var SHORT = { called: ["叫号中", "Calling"], serving: ["办理中", "Serving"] };
  function shortStatus(w) {
    var t = w.ticket, s = t && SHORT[t.status];
    if (!t) return OW.t("空闲", "Free");
    return s ? OW.t(s[0], s[1]) : OW.statusText(t.status);
  }
  function windowCard(w) {
    var t = w.ticket;
    return h("div", { class: "window-card state-" + w.state, "data-window": String(w.number) },
      h("div", { class: "window-name", text: OW.windowName(w) }),
      h("div", { class: "window-now" },
        // paused: the state in large type instead of a number, nothing more to say
        h("span", { class: "window-number", text: w.state === "paused" ? OW.windowState("paused") : (t ? t.number : "—") }),
        w.state === "paused" ? null : h("span", { class: "window-status", text: shortStatus(w) })));
  }
  function queueRow(q) {
    return h("div", { class: "queue-row", "data-queue": q.prefix },
      h("span", { class: "queue-prefix", text: q.prefix }),
      h("span", { class: "queue-name", text: OW.lang() === "en" ? q.name_en : q.name }),
      h("span", { class: "queue-count" }, h("b", { text: String(q.waiting) }), OW.t(" 人", "")));
  }
  var windows = new Pager($("#windows"), $("#windows-page"), windowCard,
    function () { return h("p", { class: "empty", text: OW.t("暂无开放窗口", "No window is open") }); });
  // The queues take the height they need; the calls and windows get the rest, measured again when it changes.
  var queuesHeight = 0;
  var queues = new Pager($("#queues"), $("#queues-page"), queueRow, function () { return null; }, function () {
    var height = $(".queues-panel").offsetHeight;
    if (height !== queuesHeight) { queuesHeight = height; renderRecent(); renderWindows(); }
  });

  function renderLatest() {
    var call = state.latest, box = $("#latest"), mark = $("#latest-recall");
    box.classList.toggle("is-empty", !call);
    $("#latest-number").textContent = call ? call.number : "—";
    $("#latest-window").textContent = call ? OW.windowName(call.window) : OW.t("暂无叫号", "No calls yet");
    $("#latest-text").textContent = call ? writtenText(call) : "";
    mark.hidden = !(call && call.recall_count > 0);
    mark.textContent = call && call.recall_count > 0 ? recallText(call.recall_count) : "";
  }

  function recentItem(c, i) {
    return h("li", { class: "recent-item" + (i === 0 ? " is-latest" : ""), "data-number": c.number },
      h("span", { class: "recent-number", text: c.number }),
      h("span", { class: "recent-window", text: "→ " + windowWord(c.window.number) }),
      c.recall_count > 0 ? h("span", { class: "recall-mark", text: recallText(c.recall_count) }) : null);
  }
  /* Recent calls: the newest that fit; older ones drop off the bottom. */
  function renderRecent() {
    var box = $("#recent");
    if (!state.recent.length) { OW.fill(box, h("li", { class: "empty", text: OW.t("今天还没有叫号", "No calls today yet") })); return; }
    OW.fill(box, state.recent.map(recentItem));
    OW.fill(box, state.recent.slice(0, Math.max(1, fitting(box))).map(recentItem));
  }

  function renderWindows() {
    windows.set(state.order.map(function (n) { return state.windows[n]; }).filter(function (w) { return w.state !== "closed"; }));
  }
  function renderQueues() { queues.set(state.queues); }
  function renderAll() { renderLatest(); renderQueues(); renderRecent(); renderWindows(); }

  function flash() {
    var box = $("#latest");
    box.classList.remove("flash");
    void box.offsetWidth; // restart the animation on every call
    box.classList.add("flash");
  }

  /* A call (or recall) goes on top; a recall replaces the ticket's entry instead of adding one. */
  function remember(call) {
    state.recent = [call].concat(state.recent.filter(function (c) { return c.number !== call.number; }));
    state.recent.length = Math.min(state.recent.length, RECENT);
  }

  OW.live({ hall: hall }, {
    board: function (snap) {
      state.recent = snap.recent_calls.map(function (c) {
        return { number: c.number, window: c.window, at: c.at, recall_count: c.recall_count || 0, written: c.written };
      });
      state.windows = {};
      state.order = snap.windows.map(function (w) { state.windows[w.number] = w; return w.number; });
      state.queues = snap.queues;
      state.latest = state.recent[0] || null;
      renderAll();
      body.dataset.synced = String(Number(body.dataset.synced || 0) + 1);
    },
    ticket_called: function (p) {
      var a = p.announcement || {};
      var call = { number: p.ticket.number, window: p.window, at: p.ticket.called_at, recall_count: p.recall_count || 0,
                   written: p.written, text: a.text, texts: a.texts || {}, audio_url: a.audio_url };
      remember(call);
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
  setInterval(function () { windows.next(); queues.next(); }, PAGE_S * 1000);
  window.addEventListener("resize", renderAll);
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(renderAll);
  OW.onLang(renderAll);
  renderAll();
  window.OWBoard = { state: state, announcer: announcer, pagers: { windows: windows, queues: queues } };
})();
