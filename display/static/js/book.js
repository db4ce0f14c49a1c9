/* Booking page (/book/<hall>): service, day, slot, details; or a remote ticket when the hall allows it. */
(function () {
  "use strict";
  var h = OW.h, $ = OW.$, body = document.body;
  var hall = body.dataset.hall, base = body.dataset.baseUrl.replace(/\/$/, "");
  var STORE = "onewindow.bookings." + hall;
  var services = [], slotsData = null, day = null, slot = null, remote = null;

  function saveBooking(id) {
    var ids = [];
    try { ids = JSON.parse(localStorage.getItem(STORE) || "[]"); } catch (e) { ids = []; }
    if (ids.indexOf(id) < 0) ids.unshift(id);
    try { localStorage.setItem(STORE, JSON.stringify(ids.slice(0, 20))); } catch (e) { /* private mode */ }
  }

  function hm(iso) { return iso.slice(11, 16); }
  function dayLabel(date) {
    var d = new Date(date + "T00:00:00");
    var zh = ["日", "一", "二", "三", "四", "五", "六"][d.getDay()], en = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][d.getDay()];
    return [date.slice(5).replace("-", "/"), OW.t("周" + zh, en)];
  }

  function renderServices() {
    var sel = $("#b-service"), keep = sel.value;
    var opts = [h("option", { value: "", text: OW.t("— 请选择 —", "— choose —") })];
    var groups = {};
    services.forEach(function (s) {
      if (!groups[s.queue]) {
        groups[s.queue] = h("optgroup", { label: s.queue + " · " + s.queue_name });
        opts.push(groups[s.queue]);
      }
      groups[s.queue].appendChild(h("option", { value: s.code, text: s.name }));
    });
    OW.fill(sel, opts);
    sel.value = keep;
  }

  function renderRemote() {
    var box = $("#remote-box");
    box.hidden = !(remote && remote.enabled && remote.open && $("#b-service").value);
    if (!remote) return;
    $("#remote-text").textContent = OW.t("不想预约？现在也可以线上取号，到大厅后在自助机签到。",
      "Rather not book? Take a number now and check in at the kiosk when you arrive.") +
      (remote.left_today === null ? "" : OW.t("（今日剩余 " + remote.left_today + " 个）", " (" + remote.left_today + " left today)"));
  }

  function renderSlots() {
    var step = $("#step-slot");
    step.hidden = !slotsData;
    if (!slotsData) return;
    if (!slotsData.days.length) {
      OW.fill($("#b-days"), []);
      OW.fill($("#b-slots"), [h("p", { class: "hint", text: OW.t("近期没有可预约的时段", "No slots in the coming days") })]);
      return;
    }
    if (!day || !slotsData.days.some(function (d) { return d.date === day; })) day = slotsData.days[0].date;
    OW.fill($("#b-days"), slotsData.days.map(function (d) {
      var lab = dayLabel(d.date);
      return h("button", { type: "button", class: "day" + (d.date === day ? " is-on" : ""), "data-day": d.date,
                           onclick: function () { day = d.date; slot = null; renderSlots(); renderForm(); } },
        h("div", { text: lab[0] }), h("small", { text: lab[1] }));
    }));
    var today = slotsData.days.filter(function (d) { return d.date === day; })[0];
    OW.fill($("#b-slots"), today.slots.map(function (s) {
      return h("button", { type: "button", class: "slot" + (slot && slot.starts_at === s.starts_at ? " is-on" : ""),
                           "data-start": s.starts_at, disabled: s.left <= 0,
                           onclick: function () { slot = s; renderSlots(); renderForm(); } },
        hm(s.starts_at) + "–" + hm(s.ends_at),
        h("small", { text: s.left > 0 ? OW.t("余 " + s.left, s.left + " left") : OW.t("已约满", "full") }));
    }));
  }

  function renderForm() {
    $("#step-form").hidden = !slot;
    if (slot) $("#b-chosen").textContent = slotsData.service.name + " · " + day + " " + hm(slot.starts_at) + "–" + hm(slot.ends_at);
  }

  function loadSlots() {
    var code = $("#b-service").value;
    slotsData = null; slot = null;
    renderSlots(); renderForm(); renderRemote();
    if (!code) return;
    OW.api("GET", "/api/v1/halls/" + encodeURIComponent(hall) + "/appointments/slots?service=" + encodeURIComponent(code))
      .then(function (res) {
        if (!res.ok) { OW.fill($("#b-slots"), [h("p", { class: "notice notice-error", text: res.data.error.message })]); $("#step-slot").hidden = false; return; }
        slotsData = res.data;
        renderSlots();
      });
  }

  function showDone(b) {
    ["service", "slot", "form"].forEach(function (n) { $("#step-" + n).hidden = true; });
    $("#step-done").hidden = false;
    $("#d-code").textContent = b.code;
    $("#d-when").textContent = b.service.name + " · " + b.starts_at.slice(0, 10) + " " + hm(b.starts_at) + "–" + hm(b.ends_at);
    $("#d-window").textContent = OW.t("请于 " + hm(b.check_in_from) + "–" + hm(b.on_time_until) + " 到大厅自助机签到（输入预约码或身份证号）；迟到将按普通号排队。",
      "Check in at the kiosk between " + hm(b.check_in_from) + " and " + hm(b.on_time_until) + " (booking code or ID number); later arrivals queue as walk-ins.");
    var link = base + "/bookings/" + encodeURIComponent(hall) + "?id=" + encodeURIComponent(b.id);
    $("#d-qr").src = "/qr.svg?data=" + encodeURIComponent(link);
    $("#d-mine").href = link;
    body.dataset.booked = b.code;
  }

  $("#b-service").addEventListener("change", loadSlots);
  $("#book-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var btn = $("#book-submit"), box = $("#book-error");
    btn.disabled = true; box.hidden = true;
    OW.api("POST", "/api/v1/halls/" + encodeURIComponent(hall) + "/appointments", {
      service: slotsData.service.code, starts_at: slot.starts_at, name: $("#b-name").value,
      phone: $("#b-phone").value.trim(), id_number: $("#b-id").value.trim().toUpperCase()
    }).then(function (res) {
      btn.disabled = false;
      if (!res.ok) { box.hidden = false; box.textContent = OW.t("预约失败：", "Could not book: ") + res.data.error.message; loadSlotsKeep(); return; }
      saveBooking(res.data.id);
      showDone(res.data);
    });
  });
  function loadSlotsKeep() {
    var keepDay = day;
    OW.api("GET", "/api/v1/halls/" + encodeURIComponent(hall) + "/appointments/slots?service=" + encodeURIComponent($("#b-service").value))
      .then(function (res) { if (res.ok) { slotsData = res.data; day = keepDay; renderSlots(); } });
  }

  $("#remote-join").addEventListener("click", function () {
    var btn = $("#remote-join");
    btn.disabled = true;
    OW.api("POST", "/api/v1/halls/" + encodeURIComponent(hall) + "/remote-tickets", { service: $("#b-service").value })
      .then(function (res) {
        btn.disabled = false;
        if (!res.ok) { $("#remote-text").textContent = res.data.error.message; return; }
        window.location.href = "/t/" + encodeURIComponent(res.data.id);
      });
  });

  OW.api("GET", "/api/v1/halls/" + encodeURIComponent(hall) + "/services").then(function (res) {
    if (!res.ok) return;
    services = res.data.services;
    renderServices();
    body.dataset.services = String(services.length);
  });
  OW.api("GET", "/api/v1/halls/" + encodeURIComponent(hall) + "/remote-tickets").then(function (res) {
    if (res.ok) { remote = res.data; renderRemote(); }
  });
  OW.onLang(function () { renderServices(); renderSlots(); renderForm(); renderRemote(); });
})();
