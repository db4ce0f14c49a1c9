/* The central view: every hall's live state (refreshed every few seconds) and their statistics side by side. */
(function () {
  "use strict";
  var h = OW.h, $ = OW.$;
  var REFRESH_MS = 5000;
  var timer = null, last = null;

  function pct(x) { return x === null || x === undefined ? "—" : Math.round(x * 100) + "%"; }
  function name(row) { return (OW.lang() === "en" && row.name_en ? row.name_en : row.name) + " (" + row.hall + ")"; }

  function render() {
    if (!last) return;
    OW.fill($("#live-table tbody"), last.halls.map(function (r) {
      return h("tr", { "data-hall": r.hall },
        h("td", { class: "strong" }, h("a", { href: "/admin/" + encodeURIComponent(r.hall) + "/windows", text: name(r) })),
        h("td", { class: "num waiting", text: String(r.live.waiting) }),
        h("td", { class: "num" + (r.live.longest_wait_s > 1800 ? " hot" : ""), text: ADM.minutes(r.live.longest_wait_s) }),
        h("td", { class: "num open", text: String(r.live.windows_open) }), h("td", { class: "num", text: String(r.live.windows_paused) }),
        h("td", { class: "num", text: String(r.live.windows) }));
    }));
    $("#total-waiting").textContent = String(last.total.waiting);
    $("#total-open").textContent = String(last.total.windows_open);
    OW.fill($("#stats-table tbody"), last.halls.map(function (r) {
      var s = r.stats;
      return h("tr", { "data-hall": r.hall }, h("td", { class: "strong", text: name(r) }),
        h("td", { class: "num issued", text: String(s.issued) }), h("td", { class: "num served", text: String(s.served) }),
        h("td", { class: "num", text: String(s.no_show) }), h("td", { class: "num", text: ADM.minutes(s.mean_wait_s) }),
        h("td", { class: "num", text: ADM.minutes(s.p90_wait_s) }), h("td", { class: "num", text: pct(s.within_target_share) }),
        h("td", { class: "num", text: ADM.minutes(s.mean_service_s) }), h("td", { class: "num", text: pct(s.satisfaction_rate) }));
    }));
  }

  function load() {
    var q = new URLSearchParams();
    if ($("#from").value) q.set("from", $("#from").value);
    if ($("#to").value) q.set("to", $("#to").value);
    return ADM.api("GET", "/admin/central?" + q.toString()).then(function (res) {
      if (!res.ok) { ADM.message($("#answer"), false, res.data.error.message); return; }
      $("#answer").textContent = "";
      last = res.data;
      render();
      $("#updated").textContent = OW.t("更新于 ", "Updated ") + new Date().toLocaleTimeString("zh-CN", { hour12: false });
      document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
    });
  }

  $("#range-form").addEventListener("submit", function (ev) { ev.preventDefault(); load(); });
  OW.onLang(render);
  ADM.start(function () {
    $("#view-central").hidden = false;
    load();
    clearInterval(timer);
    timer = setInterval(load, REFRESH_MS);
  });
})();
