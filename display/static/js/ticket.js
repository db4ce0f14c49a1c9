/* The holder's phone: live position and wait, a clear call to the window, then the rating. */
(function () {
  "use strict";
  var h = OW.h, $ = OW.$, body = document.body;
  var id = body.dataset.ticket;
  var ticket = null, lastCall = null, refetchTimer = null, lastFetch = 0;
  var LEVELS = [[5, "非常满意", "Very satisfied"], [4, "满意", "Satisfied"], [3, "基本满意", "Fair"],
                [2, "不满意", "Dissatisfied"], [1, "非常不满意", "Very dissatisfied"]];
  var scoresLang = null;
  var RATED_KEY = "onewindow.rated." + id;

  function showError(msg) {
    var box = $("#load-error");
    box.hidden = !msg;
    box.textContent = msg || "";
  }

  function fact(dt, dd, cls) { return [h("dt", { text: dt }), h("dd", { class: cls || "", text: dd })]; }

  function render() {
    if (!ticket) return;
    $("#ticket-card").hidden = false;
    body.dataset.status = ticket.status;
    $("#t-number").textContent = ticket.number;
    $("#t-service").textContent = ticket.service ? ticket.service.name : "";
    var st = $("#t-status");
    st.textContent = OW.statusText(ticket.status);
    st.className = "t-status status-" + ticket.status;
    var called = ticket.status === "called" && ticket.window;
    var banner = $("#t-called");
    banner.hidden = !called;
    if (called) {
      banner.textContent = OW.t("请到 " + ticket.window.number + " 号窗口", "Please go to window " + ticket.window.number);
    }
    var facts = [];
    if (ticket.status === "waiting") {
      facts = facts.concat(fact(OW.t("前面还有", "People ahead"), OW.t(ticket.ahead + " 人", String(ticket.ahead)), "big"));
      facts = facts.concat(fact(OW.t("预计等候", "Estimated wait"), OW.waitText(ticket.estimated_wait), "big"));
      if (ticket.target_window) facts = facts.concat(fact(OW.t("指定窗口", "Assigned window"), OW.windowName(ticket.target_window)));
    } else if (ticket.window && ticket.status !== "cancelled") {
      facts = facts.concat(fact(OW.t("窗口", "Window"), OW.windowName(ticket.window)));
    }
    facts = facts.concat(fact(OW.t("取号时间", "Issued at"), (ticket.issued_at || "").slice(11, 16)));
    OW.fill($("#t-facts"), facts);
    renderEvaluation();
  }

  function renderEvaluation() {
    var rated = null;
    try { rated = JSON.parse(localStorage.getItem(RATED_KEY) || "null"); } catch (e) { rated = null; }
    var box = $("#evaluation");
    box.hidden = !(ticket && ticket.status === "done");
    $("#eval-form").hidden = !!rated;
    if (rated) showResult(true, OW.t("感谢您的评价：", "Thank you for your rating: ") + labelFor(rated.score));
    if (scoresLang === OW.lang()) return;
    scoresLang = OW.lang();
    var picked = document.querySelector("input[name=score]:checked");
    OW.fill($("#scores"), LEVELS.map(function (l) {
      return h("label", { class: "score score-" + l[0] },
        h("input", { type: "radio", name: "score", value: String(l[0]), checked: !!picked && picked.value === String(l[0]) }),
        h("span", { text: OW.t(l[1], l[2]) }));
    }));
  }

  function labelFor(score) {
    var l = LEVELS.filter(function (x) { return x[0] === score; })[0];
    return l ? OW.t(l[1], l[2]) : String(score);
  }

  function showResult(ok, text) {
    var r = $("#eval-result");
    r.className = "notice " + (ok ? "notice-ok" : "notice-error");
    r.textContent = text;
  }

  $("#eval-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var picked = document.querySelector("input[name=score]:checked");
    if (!picked) { showResult(false, OW.t("请选择一个评价等级", "Please choose a level")); return; }
    var btn = $("#eval-submit");
    btn.disabled = true;
    OW.api("POST", "/api/v1/tickets/" + encodeURIComponent(id) + "/evaluation",
           { score: Number(picked.value), comment: $("#eval-comment").value.trim() }).then(function (res) {
      btn.disabled = false;
      if (res.ok) {
        try { localStorage.setItem(RATED_KEY, JSON.stringify({ score: res.data.score })); } catch (e) { /* ignore */ }
        $("#eval-form").hidden = true;
        showResult(true, OW.t("感谢您的评价：", "Thank you for your rating: ") + (OW.lang() === "en" ? labelFor(res.data.score) : res.data.label));
      } else {
        showResult(false, OW.t("提交失败：", "Not sent: ") + res.data.error.message);
      }
    });
  });

  function refetch() {
    lastFetch = Date.now();
    OW.api("GET", "/api/v1/tickets/" + encodeURIComponent(id)).then(function (res) {
      if (res.ok) { ticket = res.data; showError(null); render(); }
      else if (res.status === 404) showError(OW.t("未找到该号票：", "No such ticket: ") + res.data.error.message);
    });
  }

  // the queue moved: fetch our new position, at most about once a second and a half
  function throttledRefetch() {
    if (refetchTimer) return;
    var wait = Math.max(0, 1500 - (Date.now() - lastFetch));
    refetchTimer = setTimeout(function () { refetchTimer = null; refetch(); }, wait);
  }

  OW.live({ ticket: id }, {
    ticket: function (t) { ticket = t; showError(null); render(); },
    ticket_updated: function (t) { ticket = Object.assign(ticket || {}, t); render(); },
    ticket_called: function (p) {
      ticket = Object.assign(ticket || {}, p.ticket, { window: p.window });
      lastCall = p;
      render();
      if (navigator.vibrate) { try { navigator.vibrate([300, 150, 300]); } catch (e) { /* ignore */ } }
    },
    queue_changed: throttledRefetch,
    // the range recomputed as the line moves and windows open or close (the first quote stays on the ticket)
    wait_updated: function (w) { if (ticket && ticket.status === "waiting") { ticket.ahead = w.ahead; ticket.estimated_wait = w.estimated_wait; render(); } },
    error: function (e) { showError(OW.t("未找到该号票：", "Ticket not found: ") + OW.errorText(e)); }
  });
  OW.onLang(render);
  window.OWTicket = { get: function () { return ticket; }, lastCall: function () { return lastCall; } };
})();
