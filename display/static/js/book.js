/* Booking page (/book/<hall>): service, day, slot, details; or a remote ticket when the hall allows it. */
(function () {
  "use strict";
  var h = OW.h, $ = OW.$, body = document.body;
  var hall = body.dataset.hall, base = body.dataset.baseUrl.replace(/\/$/, "");
  var STORE = "onewindow.bookings." + hall;
  var services = [], slotsData = null, day = null, slot = null, remote = null, picked = null;
  var errors = OW.fieldErrors($(".book-main"), $("#book-error"), ["预约失败：", "Could not book: "]);

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

  /* Step 1: every service by queue, or what the search finds (the kiosk's search); the chosen one with its materials. */
  function serviceButton(s) {
    return h("button", { type: "button", class: "svc", "data-code": s.code, onclick: function () { pick(s); } },
      h("span", { class: "svc-name", text: s.name }),
      h("span", { class: "svc-meta", text: s.code + " · " + OW.serviceKind(s) + " · " + s.department }));
  }

  function renderServices() {
    var q = $("#b-search").value, rows = [];
    $("#b-finder").hidden = !!picked;
    $("#b-picked").hidden = !picked;
    if (picked) { renderPicked(); return; }
    if (q.trim()) {
      var found = OW.searchServices(services, q);
      rows = found.map(serviceButton);
      $("#b-count").textContent = found.length ? OW.t("找到 " + found.length + " 项", found.length + " found")
        : OW.t("没有找到，请换个关键词", "Nothing found: try other words or letters");
    } else {
      var queue = null;
      services.forEach(function (s) {
        if (s.queue !== queue) { queue = s.queue; rows.push(h("p", { class: "svc-group", text: s.queue + " · " + s.queue_name })); }
        rows.push(serviceButton(s));
      });
      $("#b-count").textContent = OW.t("共 " + services.length + " 项，可输入名称或拼音首字母查找", services.length + " services: type a name or pinyin initials to find one");
    }
    OW.fill($("#b-results"), rows);
  }

  function renderPicked() {
    $("#p-name").textContent = picked.name;
    $("#p-meta").textContent = picked.code + " · " + OW.serviceKind(picked) + " · " + picked.department;
    OW.fill($("#p-materials"), (picked.materials || []).length
      ? picked.materials.map(function (m) { return h("li", { text: m }); })
      : [h("li", { text: OW.t("无需材料", "No materials needed") })]);
  }

  function pick(s) {
    picked = s;
    body.dataset.service = s ? s.code : "";
    errors.clear();
    renderServices();
    loadSlots();
  }

  function renderRemote() {
    var box = $("#remote-box");
    box.hidden = !(remote && remote.enabled && remote.open && picked);
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
                           onclick: function () { slot = s; errors.clear(); renderSlots(); renderForm(); } },
        hm(s.starts_at) + "–" + hm(s.ends_at),
        h("small", { text: s.left > 0 ? OW.t("余 " + s.left, s.left + " left") : OW.t("已约满", "full") }));
    }));
  }

  function renderForm() {
    $("#step-form").hidden = !slot;
    if (slot) $("#b-chosen").textContent = slotsData.service.name + " · " + day + " " + hm(slot.starts_at) + "–" + hm(slot.ends_at);
  }

  function loadSlots(keepDay) {
    slotsData = null; slot = null;
    renderSlots(); renderForm(); renderRemote();
    if (!picked) return;
    OW.api("GET", "/api/v1/halls/" + encodeURIComponent(hall) + "/appointments/slots?service=" + encodeURIComponent(picked.code))
      .then(function (res) {
        if (!res.ok) { errors.show(Object.assign({}, res.data.error, { field: "service" })); return; }
        slotsData = res.data;
        if (keepDay) day = keepDay;
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

  $("#b-search").addEventListener("input", renderServices);
  $("#b-change").addEventListener("click", function () { pick(null); $("#b-search").focus(); });
  $("#book-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var btn = $("#book-submit");
    btn.disabled = true;
    errors.clear();
    OW.api("POST", "/api/v1/halls/" + encodeURIComponent(hall) + "/appointments", {
      service: slotsData.service.code, starts_at: slot.starts_at, name: $("#b-name").value,
      phone: $("#b-phone").value.trim(), id_number: $("#b-id").value.trim().toUpperCase()
    }).then(function (res) {
      btn.disabled = false;
      if (!res.ok) {
        var err = res.data.error;
        if (err.code === "slot_full") err.field = "starts_at";
        errors.show(err);
        // a slot that filled up or is too soon: offer the slots as they are now
        if (err.field === "starts_at") loadSlots(day);
        return;
      }
      saveBooking(res.data.id);
      showDone(res.data);
    });
  });

  $("#remote-join").addEventListener("click", function () {
    var btn = $("#remote-join");
    btn.disabled = true;
    OW.api("POST", "/api/v1/halls/" + encodeURIComponent(hall) + "/remote-tickets", { service: picked.code })
      .then(function (res) {
        btn.disabled = false;
        if (!res.ok) { errors.show(Object.assign({}, res.data.error, { field: "service" })); return; }
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
