/* The holder's phone: live position and wait, a clear call to the window, then the rating. */
(function () {
  "use strict";
  var h = OW.h, $ = OW.$, body = document.body;
  var id = body.dataset.ticket;
  var ticket = null, lastCall = null, refetchTimer = null, lastFetch = 0;
  var LEVELS = [[5, "非常满意", "Very satisfied"], [4, "满意", "Satisfied"], [3, "基本满意", "Fair"],
                [2, "不满意", "Dissatisfied"], [1, "非常不满意", "Very dissatisfied"]];
  var scoresLang = null, picker = null;
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
    if (ticket.remote && (ticket.status === "waiting" || ticket.status === "called")) {
      facts = facts.concat(fact(OW.t("签到", "Check-in"), ticket.checked_in ? OW.t("已签到", "checked in") : OW.t("未签到", "not yet"),
                                ticket.checked_in ? "" : "warn"));
    }
    facts = facts.concat(fact(OW.t("取号时间", "Issued at"), (ticket.issued_at || "").slice(11, 16)));
    OW.fill($("#t-facts"), facts);
    renderNext();
    renderCancel();
    renderEvaluation();
  }

  /* What the holder does now, where the status alone does not say it. */
  function nextStep(t) {
    var at = t.window ? t.window.number : null;
    if (t.remote && !t.checked_in && (t.status === "waiting" || t.status === "called")) {
      return ["checkin",
        "您是线上取号：到大厅后请先在自助取号机上签到（点“预约/线上取号签到”，输入号码 " + t.number + "）。签到后才会叫号，未签到时轮到您会被跳过。",
        "You took this number online: when you arrive, check in at the hall's kiosk (tap Check in, enter " + t.number + "). You are only called after checking in; until then your turn is skipped."];
    }
    if (t.status === "no_show") {
      return ["missed",
        "您已过号。如仍在大厅，请到咨询台或" + (at ? " " + at + " 号窗口" : "窗口") + "说明，工作人员可为您重新叫号；如已离开，请重新取号。",
        "You missed your call. If you are still in the hall, tell the staff at the help desk or " + (at ? "window " + at : "the window") + ": they can call you again. Otherwise take a new number."];
    }
    if (t.status === "held") {
      return ["held",
        "您的事项需要补正材料：请按工作人员的告知补齐以下材料，带回" + (at ? " " + at + " 号窗口" : "原窗口") + "，工作人员会继续为您办理，无需重新取号。",
        "Your application needs more documents: bring the items below back to " + (at ? "window " + at : "the same window") + "; the clerk continues your case, no new number needed."];
    }
    if (t.status === "cancelled") return ["cancelled", "已取消排队。如需办理，请重新取号。", "You left the queue. To be served, take a new number."];
    return null;
  }

  function renderNext() {
    var step = nextStep(ticket), box = $("#t-next");
    box.hidden = !step;
    if (!step) return;
    box.className = "t-next t-next-" + step[0];
    box.dataset.step = step[0];
    $("#t-next-text").textContent = OW.t(step[1], step[2]);
    var materials = step[0] === "held" && ticket.service ? ticket.service.materials || [] : [];
    OW.fill($("#t-next-materials"), materials.map(function (m) { return h("li", { text: m }); }));
  }

  /* 取消排队: only while waiting, after a confirmation, with the holder's own id. */
  var cancelError = null;
  function renderCancel() {
    var waiting = ticket.status === "waiting";
    $("#cancel-box").hidden = !waiting;
    if (!waiting) $("#cancel-confirm").hidden = true;
    $("#cancel-error").hidden = !cancelError;
    if (cancelError) $("#cancel-error").textContent = OW.t("未能取消：", "Not cancelled: ") + OW.errorText(cancelError);
  }
  $("#cancel-open").addEventListener("click", function () { $("#cancel-confirm").hidden = false; $("#cancel-open").hidden = true; });
  $("#cancel-no").addEventListener("click", function () { $("#cancel-confirm").hidden = true; $("#cancel-open").hidden = false; });
  $("#cancel-yes").addEventListener("click", function () {
    var btn = $("#cancel-yes");
    btn.disabled = true;
    OW.api("POST", "/api/v1/tickets/" + encodeURIComponent(id) + "/cancel").then(function (res) {
      btn.disabled = false;
      $("#cancel-confirm").hidden = true;
      $("#cancel-open").hidden = false;
      cancelError = res.ok ? null : res.data.error;
      if (res.ok) ticket = res.data;
      render();
    });
  });

  function renderEvaluation() {
    var rated = null;
    try { rated = JSON.parse(localStorage.getItem(RATED_KEY) || "null"); } catch (e) { rated = null; }
    var box = $("#evaluation");
    box.hidden = !(ticket && ticket.status === "done");
    if (!box.hidden && !picker) { picker = OW.reasonPicker($("#reason-list"), ticket.hall); picker.load(); }
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

  function pickedScore() {
    var picked = document.querySelector("input[name=score]:checked");
    return picked ? Number(picked.value) : null;
  }
  // 不满意 or 非常不满意: ask what was wrong
  $("#scores").addEventListener("change", function () {
    var score = pickedScore();
    $("#eval-reasons").hidden = !(score && score <= OW.POOR_SCORE);
  });

  $("#eval-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var picked = document.querySelector("input[name=score]:checked");
    if (!picked) { showResult(false, OW.t("请选择一个评价等级", "Please choose a level")); return; }
    var btn = $("#eval-submit");
    btn.disabled = true;
    OW.api("POST", "/api/v1/tickets/" + encodeURIComponent(id) + "/evaluation",
           { score: Number(picked.value), comment: $("#eval-comment").value.trim(),
             reasons: Number(picked.value) <= OW.POOR_SCORE && picker ? picker.selected() : [] }).then(function (res) {
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
      else if (res.status === 404) showError(OW.errorText(res.data.error));
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
      // Chrome refuses (and logs) a vibration before the holder has touched the page
      var touched = !navigator.userActivation || navigator.userActivation.hasBeenActive;
      if (navigator.vibrate && touched) { try { navigator.vibrate([300, 150, 300]); } catch (e) { /* ignore */ } }
    },
    queue_changed: throttledRefetch,
    // the range recomputed as the line moves and windows open or close (the first quote stays on the ticket)
    wait_updated: function (w) { if (ticket && ticket.status === "waiting") { ticket.ahead = w.ahead; ticket.estimated_wait = w.estimated_wait; render(); } },
    error: function (e) { showError(OW.errorText(e)); }
  });
  OW.onLang(render);
  window.OWTicket = { get: function () { return ticket; }, lastCall: function () { return lastCall; } };
})();
