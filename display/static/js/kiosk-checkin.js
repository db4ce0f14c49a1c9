/* Kiosk check-in: a booking (code, ID number or its QR) or a remote ticket (number or its QR) is checked in. */
(function () {
  "use strict";
  var h = OW.h, $ = OW.$, hall = document.body.dataset.hall;
  var KEYS = ["1234567890", "QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM"];
  var ID_NUMBER = /^\d{17}[\dX]$/, TICKET_NUMBER = /^[A-Z]{1,2}\d{3,5}$/;
  var failure = null;
  // What the citizen does next, by what went wrong (the server's reason is shown above it).
  var NEXT = {
    not_found: ["请核对预约码、身份证号或号码后重新输入；仍有问题请到咨询台。也可以直接取号。",
                "Check the booking code, ID number or ticket number and try again; ask at the help desk if it still fails. You can also take a new number."],
    too_early: ["签到时间还没到，请在大厅稍候，到时间后再来签到。", "Check-in has not opened yet: wait in the hall and check in at the time shown."],
    expired: ["预约已过期，请返回首页直接取号。", "The booking has expired: go back to the start and take a new number."],
    conflict: ["您已经签到过，请留意叫号屏和手机上的号码。", "You are already checked in: watch the display and your phone."],
    other: ["请稍后再试；仍有问题请到咨询台找工作人员。", "Please try again in a moment, or ask the staff at the help desk."]
  };

  OW.fill($("#checkin-keypad"), KEYS.map(function (row) {
    return h("div", { class: "key-row" }, row.split("").map(function (k) {
      return h("button", { type: "button", class: "key", "data-ckey": k, text: k });
    }));
  }).concat([h("div", { class: "key-row" },
    h("button", { type: "button", class: "key key-wide", "data-ckey": "backspace", "aria-label": "backspace", text: "⌫" }),
    h("button", { type: "button", class: "key key-wide", "data-ckey": "clear", "data-en": "Clear", text: "清空" }))]));
  OW.applyLang();

  function open() {
    $("#checkin-input").value = "";
    OWKiosk.show("checkin");
    $("#checkin-input").focus();  // a USB QR scanner types into the focused field and presses Enter
  }

  function nextStep(err) {
    if (err.status === "too_early" || err.status === "expired") return NEXT[err.status];
    return NEXT[err.code] || NEXT.other;
  }

  function renderFailure() {
    if (!failure) return;
    var next = nextStep(failure);
    $("#cf-reason").textContent = OW.errorText(failure);
    $("#cf-next").textContent = OW.t(next[0], next[1]);
  }

  function fail(err) {
    failure = err;
    renderFailure();
    document.body.dataset.checkinError = err.code;
    OWKiosk.show("checkin-failed");
  }

  /* What was typed or scanned decides the call: a ticket link, a booking link, an ID number, a number or a code. */
  function request(text) {
    var base = "/api/v1/halls/" + encodeURIComponent(hall);
    var ticket = text.match(/\/t\/([A-Za-z0-9_-]{10,64})/), booking = text.match(/[?&]id=([A-Za-z0-9_-]{10,64})/);
    if (ticket) return ["POST", "/api/v1/tickets/" + ticket[1] + "/check-in", undefined];
    if (booking) return ["POST", base + "/appointments/check-in", { appointment: booking[1], print: true }];
    var value = text.toUpperCase().replace(/[\s-]/g, "");
    if (ID_NUMBER.test(value)) return ["POST", base + "/appointments/check-in", { id_number: value, print: true }];
    if (TICKET_NUMBER.test(value) && value.length !== 8) return ["POST", base + "/tickets/" + value + "/check-in", undefined];
    return ["POST", base + "/appointments/check-in", { code: value, print: true }];
  }

  function go() {
    var text = $("#checkin-input").value.trim();
    if (!text) return;
    var btn = $("#checkin-go"), call = request(text);
    btn.disabled = true;
    OW.api(call[0], call[1], call[2]).then(function (res) {
      btn.disabled = false;
      if (!res.ok) { fail(res.data.error); return; }
      var ticket = res.data.ticket || res.data;
      document.body.dataset.checkin = res.data.arrival || "remote";
      OWKiosk.showTicket(ticket, res.data.arrival || "remote");
    });
  }

  $("#checkin-open").addEventListener("click", open);
  $("#checkin-back").addEventListener("click", function () { OWKiosk.show("home"); });
  $("#cf-retry").addEventListener("click", function () { OWKiosk.show("checkin"); $("#checkin-input").focus(); });
  $("#cf-home").addEventListener("click", function () { OWKiosk.home(); });
  OW.onLang(renderFailure);
  $("#checkin-go").addEventListener("click", go);
  $("#checkin-input").addEventListener("keydown", function (ev) { if (ev.key === "Enter") go(); });
  $("#checkin-keypad").addEventListener("click", function (ev) {
    var key = ev.target.closest("[data-ckey]");
    if (!key) return;
    var input = $("#checkin-input"), k = key.dataset.ckey;
    if (k === "backspace") input.value = input.value.slice(0, -1);
    else if (k === "clear") input.value = "";
    else if (input.value.length < 40) input.value += k;
  });
})();
