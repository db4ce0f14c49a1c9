/* Kiosk check-in: a booking (code, ID number or its QR) or a remote ticket (number or its QR) is checked in. */
(function () {
  "use strict";
  var h = OW.h, $ = OW.$, hall = document.body.dataset.hall;
  var KEYS = ["1234567890", "QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM"];
  var ID_NUMBER = /^\d{17}[\dX]$/, TICKET_NUMBER = /^[A-Z]{1,2}\d{3,5}$/;

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
    $("#checkin-error").hidden = true;
    OWKiosk.show("checkin");
    $("#checkin-input").focus();  // a USB QR scanner types into the focused field and presses Enter
  }

  function fail(message) {
    var box = $("#checkin-error");
    box.hidden = false;
    box.textContent = OW.t("签到失败：", "Check-in failed: ") + message;
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
      if (!res.ok) { fail(res.data.error.message); return; }
      var ticket = res.data.ticket || res.data;
      document.body.dataset.checkin = res.data.arrival || "remote";
      OWKiosk.showTicket(ticket);
    });
  }

  $("#checkin-open").addEventListener("click", open);
  $("#checkin-back").addEventListener("click", function () { OWKiosk.show("home"); });
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
