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

  // What each card shows besides its booking, kept across re-renders (a language switch redraws every card):
  // the slot picker with its choices, and the last error by the control it belongs to.
  var ui = {};  // booking id -> { slots: [{value, text}] | null, error: { err, at: "starts_at" | "cancel" } | null }
  function uiOf(b) { return ui[b.id] || (ui[b.id] = { slots: null, error: null }); }

  function errorBox(b, at) {
    var e = uiOf(b).error;
    var shown = e && e.at === at;
    return h("p", { class: "field-error", "data-field-error": at, role: "alert", hidden: !shown, text: shown ? OW.errorText(e.err) : "" });
  }

  function picker(b) {
    var state = uiOf(b), wrong = state.error && state.error.at === "starts_at";
    var sel = h("select", { class: "field" + (wrong ? " is-wrong" : ""), "data-field": "starts_at", "aria-label": OW.t("改到时段", "New time"),
                            "aria-invalid": wrong ? "true" : null },
      (state.slots || []).map(function (o) { return h("option", { value: o.value, text: o.text, selected: o.value === state.chosen }); }));
    sel.addEventListener("change", function () { state.chosen = sel.value; });
    return h("div", { class: "picker" }, state.slots ? sel : null, errorBox(b, "starts_at"),
      state.slots ? h("button", { type: "button", class: "btn btn-wide", "data-action": "move", text: OW.t("确认改约", "Move the booking"),
                                  onclick: function () { reschedule(b, sel.value); } }) : null);
  }

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
      el.appendChild(h("div", { class: "row" },
        h("button", { type: "button", class: "btn btn-light", "data-action": "reschedule", text: OW.t("改约", "Reschedule"),
                      onclick: function () { showPicker(b); } }),
        h("button", { type: "button", class: "btn", "data-action": "cancel", text: OW.t("取消预约", "Cancel"),
                      onclick: function () { cancel(b); } })));
      el.appendChild(errorBox(b, "cancel"));
      if (uiOf(b).slots || (uiOf(b).error && uiOf(b).error.at === "starts_at")) el.appendChild(picker(b));
    }
    return el;
  }

  function render() {
    OW.fill($("#list"), bookings.map(card));
    $("#empty").hidden = bookings.length > 0;
  }

  /* An error goes next to the control it is about: the new slot for a reschedule, the button for a cancel. */
  function showError(b, err, at) {
    uiOf(b).error = { err: err, at: at };
    render();
  }

  function replace(updated) {
    bookings = bookings.map(function (x) { return x.id === updated.id ? updated : x; });
    ui[updated.id] = { slots: null, error: null };
    render();
  }

  function cancel(b) {
    if (!window.confirm(OW.t("确定取消这个预约吗？", "Cancel this booking?"))) return;
    OW.api("POST", "/api/v1/appointments/" + encodeURIComponent(b.id) + "/cancel").then(function (res) {
      if (res.ok) replace(res.data); else showError(b, res.data.error, "cancel");
    });
  }

  function reschedule(b, startsAt) {
    OW.api("POST", "/api/v1/appointments/" + encodeURIComponent(b.id) + "/reschedule", { starts_at: startsAt })
      .then(function (r) { if (r.ok) replace(r.data); else showError(b, r.data.error, "starts_at"); });
  }

  function showPicker(b) {
    OW.api("GET", "/api/v1/halls/" + encodeURIComponent(hall) + "/appointments/slots?service=" + encodeURIComponent(b.service.code))
      .then(function (res) {
        if (!res.ok) { showError(b, res.data.error, "starts_at"); return; }
        var options = [];
        res.data.days.forEach(function (d) {
          d.slots.forEach(function (s) {
            if (s.left > 0 && s.starts_at !== b.starts_at) options.push({ value: s.starts_at, text: d.date + " " + hm(s.starts_at) + "–" + hm(s.ends_at) });
          });
        });
        var state = uiOf(b);
        state.slots = options;
        state.chosen = options.length ? options[0].value : null;
        state.error = null;
        render();
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
