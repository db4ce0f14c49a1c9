/* My bookings (/bookings/<hall>): the bookings kept on this phone, cancel and reschedule, find by code. */
(function () {
  "use strict";
  var h = OW.h, $ = OW.$, body = document.body;
  var hall = body.dataset.hall;
  var STORE = "onewindow.bookings." + hall;
  var bookings = [];
  var lookupErrors = OW.fieldErrors($("#lookup-form"), $("#lookup-error"));

  var STATUS = { booked: ["已预约", "Booked"], checked_in: ["已签到", "Checked in"], cancelled: ["已取消", "Cancelled"],
                 no_show: ["未到（爽约）", "Missed"] };

  function ids() {
    try { return JSON.parse(localStorage.getItem(STORE) || "[]"); } catch (e) { return []; }
  }
  function remember(id) {
    var list = ids().filter(function (x) { return x !== id; });
    list.unshift(id);
    try { localStorage.setItem(STORE, JSON.stringify(list.slice(0, 20))); } catch (e) { /* private mode */ }
  }
  function hm(iso) { return iso.slice(11, 16); }

  function card(b) {
    var changeable = b.status === "booked" && Date.now() <= Date.parse(b.change_until);
    var st = STATUS[b.status] || [b.status, b.status];
    var el = h("section", { class: "card booking st-" + b.status, "data-id": b.id },
      h("div", {}, h("span", { class: "status-tag", text: OW.t(st[0], st[1]) })),
      h("h2", { text: b.service.name }),
      h("p", { class: "when", text: b.starts_at.slice(0, 10) + " " + hm(b.starts_at) + "–" + hm(b.ends_at) }),
      h("div", { class: "code", text: b.code }),
      h("p", { class: "hint", text: b.name + " · " + b.phone + " · " + b.id_number }),
      b.ticket ? h("p", {}, h("a", { href: "/t/" + encodeURIComponent(b.ticket.id), text: OW.t("查看号票 " + b.ticket.number, "Ticket " + b.ticket.number) })) : null,
      b.status === "booked" ? h("p", { class: "hint", text: OW.t("签到时间 " + hm(b.check_in_from) + "–" + hm(b.on_time_until), "Check in " + hm(b.check_in_from) + "–" + hm(b.on_time_until)) }) : null);
    if (changeable) {
      var picker = h("div", { class: "picker", hidden: true });
      el.appendChild(h("div", { class: "row" },
        h("button", { type: "button", class: "btn btn-light", "data-action": "reschedule", text: OW.t("改约", "Reschedule"),
                      onclick: function () { showPicker(b, picker); } }),
        h("button", { type: "button", class: "btn", "data-action": "cancel", text: OW.t("取消预约", "Cancel"),
                      onclick: function () { cancel(b); } })));
      el.appendChild(picker);
    }
    el.appendChild(h("div", { class: "notice notice-error err", hidden: true }));
    return el;
  }

  function render() {
    OW.fill($("#list"), bookings.map(card));
    $("#empty").hidden = bookings.length > 0;
  }

  function showError(b, message) {
    var box = document.querySelector('[data-id="' + b.id + '"] .err');
    if (box) { box.hidden = false; box.textContent = message; }
  }

  function replace(updated) {
    bookings = bookings.map(function (x) { return x.id === updated.id ? updated : x; });
    render();
  }

  function cancel(b) {
    if (!window.confirm(OW.t("确定取消这个预约吗？", "Cancel this booking?"))) return;
    OW.api("POST", "/api/v1/appointments/" + encodeURIComponent(b.id) + "/cancel").then(function (res) {
      if (res.ok) replace(res.data); else showError(b, res.data.error.message);
    });
  }

  function showPicker(b, picker) {
    picker.hidden = false;
    OW.api("GET", "/api/v1/halls/" + encodeURIComponent(hall) + "/appointments/slots?service=" + encodeURIComponent(b.service.code))
      .then(function (res) {
        if (!res.ok) { showError(b, res.data.error.message); return; }
        var options = [];
        res.data.days.forEach(function (d) {
          d.slots.forEach(function (s) {
            if (s.left > 0 && s.starts_at !== b.starts_at) options.push(h("option", { value: s.starts_at, text: d.date + " " + hm(s.starts_at) + "–" + hm(s.ends_at) }));
          });
        });
        var sel = h("select", { class: "field", "aria-label": "slot" }, options);
        OW.fill(picker, [sel, h("button", { type: "button", class: "btn btn-wide", text: OW.t("确认改约", "Move the booking"),
          onclick: function () {
            OW.api("POST", "/api/v1/appointments/" + encodeURIComponent(b.id) + "/reschedule", { starts_at: sel.value })
              .then(function (r) { if (r.ok) replace(r.data); else showError(b, r.data.error.message); });
          } })]);
      });
  }

  function load() {
    var list = ids();
    Promise.all(list.map(function (id) {
      return OW.api("GET", "/api/v1/appointments/" + encodeURIComponent(id)).then(function (res) { return res.ok ? res.data : null; });
    })).then(function (found) {
      bookings = found.filter(Boolean);
      render();
      body.dataset.loaded = String(bookings.length);
    });
  }

  $("#lookup-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    lookupErrors.clear();
    OW.api("POST", "/api/v1/halls/" + encodeURIComponent(hall) + "/appointments/lookup",
           { code: $("#l-code").value.trim(), phone: $("#l-phone").value.trim() }).then(function (res) {
      if (!res.ok) { lookupErrors.show(res.data.error); return; }
      remember(res.data.id);
      load();
    });
  });

  var given = new URLSearchParams(window.location.search).get("id");
  if (given) remember(given);
  OW.onLang(render);
  load();
})();
