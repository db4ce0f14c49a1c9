/* The screen above one window: the number it serves now, or that it is paused or closed. */
(function () {
  "use strict";
  var $ = OW.$, body = document.body;
  var number = Number(body.dataset.window);
  var win = null;

  function render() {
    var st = win ? win.state : "closed";
    body.classList.remove("state-open", "state-paused", "state-closed");
    body.classList.add("state-" + st);
    body.dataset.state = st;
    var t = win && win.ticket;
    if (st === "paused") {
      $("#window-state").textContent = OW.t("暂停服务", "Service paused");
      $("#window-number").textContent = "";
      $("#window-note").textContent = OW.t("请到其他窗口办理", "Please go to another window");
    } else if (st === "closed") {
      $("#window-state").textContent = OW.t("未开放", "Closed");
      $("#window-number").textContent = "";
      $("#window-note").textContent = "";
    } else {
      $("#window-state").textContent = t ? (t.status === "called" ? OW.t("请", "Calling") : OW.t("正在办理", "Now serving")) : OW.t("等待叫号", "Ready");
      $("#window-number").textContent = t ? t.number : "—";
      $("#window-note").textContent = t && t.status === "called" ? OW.t("号到本窗口办理", "please come to this window") : "";
    }
  }

  OW.live({ hall: body.dataset.hall }, {
    board: function (snap) {
      win = snap.windows.filter(function (w) { return w.number === number; })[0] || null;
      render();
      if (OW.clerkBadge) OW.clerkBadge.refresh();
    },
    // a window change may be a new clerk signing in, or their name or photo changed in the administration
    window_updated: function (w) { if (w.number === number) { win = w; render(); if (OW.clerkBadge) OW.clerkBadge.refresh(); } },
    ticket_called: function (p) {
      if (p.window.number !== number || !win) return;
      win.ticket = { number: p.ticket.number, status: p.ticket.status };
      render();
      var n = $("#window-number");
      n.classList.remove("flash"); void n.offsetWidth; n.classList.add("flash");
    },
    ticket_updated: function (t) {
      if (win && win.ticket && win.ticket.number === t.number && t.window && t.window.number === number) {
        win.ticket.status = t.status;
        render();
      }
    }
  });
  OW.onLang(render);
  render();
})();
