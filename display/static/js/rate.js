/* The rating tablet facing the citizen: wakes when the clerk finishes, five levels, then thanks. */
(function () {
  "use strict";
  var $ = OW.$, body = document.body;
  var hall = body.dataset.hall, number = Number(body.dataset.window);
  var url = "/api/v1/halls/" + encodeURIComponent(hall) + "/windows/" + number + "/rating";
  var idleTimer = null, score = null;
  var picker = OW.reasonPicker($("#reason-list"), hall);

  function show(state) {
    body.dataset.state = state;
    $("#rate-idle").hidden = state !== "idle";
    $("#rate-ask").hidden = state !== "ask";
    $("#rate-reasons").hidden = state !== "reasons";
    $("#rate-done").hidden = state !== "done";
    clearTimeout(idleTimer);
    // Back to the welcome screen by itself: after the thanks, or when nobody rates.
    if (state !== "idle") idleTimer = setTimeout(function () { show("idle"); }, state === "done" ? 8000 : 180000);
  }

  function check() {
    OW.api("GET", url).then(function (res) {
      if (res.ok && res.status === 200 && res.data) {
        $("#rate-number").textContent = res.data.number;
        show("ask");
      } else if (body.dataset.state === "ask") {
        show("idle");
      }
    });
  }

  $("#rate-buttons").addEventListener("click", function (ev) {
    var b = ev.target.closest("[data-score]");
    if (!b) return;
    score = { value: Number(b.dataset.score), label: b };
    if (score.value > OW.POOR_SCORE) { send([], ""); return; }
    // 不满意 or 非常不满意: ask what was wrong first
    picker.reset();
    $("#reason-comment").value = "";
    show("reasons");
    picker.load();  // the hall may have changed its list since the tablet started: a stale reason is refused
  });
  $("#reason-submit").addEventListener("click", function () { send(picker.selected(), $("#reason-comment").value.trim()); });

  function send(reasons, comment) {
    var b = score.label;
    OW.api("POST", url, { score: score.value, reasons: reasons, comment: comment }).then(function (res) {
      $("#rate-result").textContent = res.ok ? (OW.lang() === "en" ? b.textContent : res.data.label)
        : (res.data && res.data.error ? res.data.error.message : "");
      show("done");
    });
  }

  function clerkChanged() { if (OW.clerkBadge) OW.clerkBadge.refresh(); }

  OW.live({ hall: hall }, {
    board: function () { check(); clerkChanged(); },
    ticket_updated: function (t) {
      if (t.status === "done" && t.window && t.window.number === number) check();
    },
    // a clerk signing in or out here (open, close), or their name or photo changed in the administration
    window_updated: function (w) { if (w.number === number) clerkChanged(); }
  });
  picker.load();
  show("idle");
})();
