/* Supervisor statistics: KPIs, charts (Chart.js, vendored), live panel with window advice, exports, follow-ups. */
(function () {
  "use strict";
  var $ = OW.$, h = OW.h, body = document.body, hall = body.dataset.hall;
  var base = "/api/v1/halls/" + encodeURIComponent(hall) + "/";
  var charts = {}, last = null, plan = null, liveTimer = null, pending = null;

  function min(s) { return s === null || s === undefined ? "—" : (s / 60).toFixed(1); }
  function pct(x) { return x === null || x === undefined ? "—" : Math.round(x * 1000) / 10 + "%"; }
  function fail(res) {
    $("#stats-msg").textContent = res.data && res.data.error ? OW.errorText(res.data.error) : "";
  }

  function tile(value, zh, en) { return h("div", { class: "tile" }, h("b", { text: value }), h("span", { text: OW.t(zh, en) })); }

  function renderKpis(st) {
    var c = st.counts, w = st.wait, s = st.service, sat = st.satisfaction, e = st.estimate;
    OW.fill($("#kpis"), [
      tile(c.issued, "取号", "issued"), tile(c.served, "办结", "served"), tile(c.no_show, "过号", "no-show"),
      tile(c.cancelled, "取消", "cancelled"), tile(c.transferred, "转办", "transferred"),
      tile(min(w.mean_s) + " / " + min(w.median_s) + " / " + min(w.p90_s), "等候 均值/中位/P90（分）", "wait mean/median/p90 (min)"),
      tile(pct(w.within_target_share), st.target_wait_s / 60 + " 分钟内叫号", "called within " + st.target_wait_s / 60 + " min"),
      tile(min(s.mean_s) + " / " + min(s.median_s) + " / " + min(s.p90_s), "办理 均值/中位/P90（分）", "service mean/median/p90 (min)"),
      tile(min(st.hold.total_s), "挂起时长（分，不计入办理）", "on hold (min, not service)"),
      tile(pct(sat.rate), "满意率（含默认 " + sat.defaulted + "）", "satisfaction (" + sat.defaulted + " defaulted)"),
      tile(pct(e.inside_share), "实际等候落在预计区间内（设定 " + pct(e.coverage) + "）", "actual waits inside the quote (stated " + pct(e.coverage) + ")"),
      tile(min(e.mean_width_s), "预计区间平均宽度（分）", "mean range width (min)"),
      tile(min(e.mae_s), "预计误差（分）", "estimate error (min)")
    ]);
  }

  function chart(id, config) {
    if (charts[id]) charts[id].destroy();
    config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false }, config.options || {});
    charts[id] = new Chart($("#" + id), config);
    $("#" + id).dataset.points = config.data.datasets.reduce(function (n, d) { return n + d.data.length; }, 0);
  }

  function renderCharts(st) {
    chart("chart-hours", {
      data: {
        labels: st.by_hour.map(function (x) { return x.hour + ":00"; }),
        datasets: [
          { type: "bar", label: OW.t("到达人数", "arrivals"), data: st.by_hour.map(function (x) { return x.arrivals; }), backgroundColor: "#0b3d91", yAxisID: "y" },
          { type: "line", label: OW.t("平均等候（分）", "mean wait (min)"), data: st.by_hour.map(function (x) { return x.wait.mean_s === null ? null : x.wait.mean_s / 60; }), borderColor: "#c62828", backgroundColor: "#c62828", yAxisID: "y1" }
        ]
      },
      options: { scales: { y: { beginAtZero: true }, y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } } }
    });
    chart("chart-windows", {
      type: "bar",
      data: {
        labels: st.by_window.map(function (x) { return OW.t(x.key + "号窗口", "Window " + x.key); }),
        datasets: [
          { label: OW.t("办结件数", "served"), data: st.by_window.map(function (x) { return x.served; }), backgroundColor: "#0b3d91" },
          { label: OW.t("办理时长（分）", "busy (min)"), data: st.by_window.map(function (x) { return Math.round(x.busy_s / 60); }), backgroundColor: "#ffb300" }
        ]
      }
    });
    var levels = st.satisfaction.levels;
    chart("chart-satisfaction", {
      type: "doughnut",
      data: {
        labels: levels.map(function (l) { return l.label; }),
        datasets: [{ data: levels.map(function (l) { return l.count; }), backgroundColor: ["#1b7a3a", "#3f8f2f", "#8a7a00", "#c25e00", "#c62828"] }]
      }
    });
  }

  // The calibration plot: per band of quoted middles, the mean quoted range (bar) and the mean actual wait (dot);
  // and the share inside the quote by hour against the hall's stated coverage (dashed).
  function renderCalibration(st) {
    var cal = st.calibration, stated = st.estimate.coverage;
    chart("chart-calibration", {
      data: {
        labels: cal.map(function (b) { return b.from_s / 60 + (b.to_s === null ? "+" : "–" + b.to_s / 60) + OW.t(" 分", " min"); }),
        datasets: [
          { type: "bar", label: OW.t("平均预计区间（分）", "mean quoted range (min)"), data: cal.map(function (b) { return [b.mean_low_s / 60, b.mean_high_s / 60]; }), backgroundColor: "rgba(11,61,145,0.35)", borderColor: "#0b3d91", borderWidth: 1 },
          { type: "line", label: OW.t("平均实际等候（分）", "mean actual wait (min)"), data: cal.map(function (b) { return b.mean_actual_s / 60; }), showLine: false, pointRadius: 6, borderColor: "#c62828", backgroundColor: "#c62828" }
        ]
      },
      options: { scales: { y: { beginAtZero: true } } }
    });
    var hours = st.by_hour.filter(function (x) { return x.estimate.count > 0; });
    chart("chart-coverage", {
      data: {
        labels: hours.map(function (x) { return x.hour + ":00"; }),
        datasets: [
          { type: "bar", label: OW.t("区间内比例（%）", "inside the quote (%)"), data: hours.map(function (x) { return Math.round(x.estimate.inside_share * 100); }), backgroundColor: "#1b7a3a" },
          { type: "line", label: OW.t("设定覆盖率（%）", "stated coverage (%)"), data: hours.map(function () { return stated === null ? null : Math.round(stated * 100); }), borderColor: "#c62828", borderDash: [6, 4], pointRadius: 0 }
        ]
      },
      options: { scales: { y: { beginAtZero: true, max: 100 } } }
    });
    $("#calibration").dataset.coverage = stated === null ? "" : String(stated);
  }

  function table(el, head, rows) {
    OW.fill(el, [h("thead", null, h("tr", null, head.map(function (x) { return h("th", { text: x }); })))].concat(
      [h("tbody", null, rows.map(function (r) { return h("tr", null, r.map(function (x) { return x && x.nodeType ? h("td", null, x) : h("td", { text: String(x) }); })); }))]));
  }

  function renderTables(st) {
    table($("#table-queues"), [OW.t("队列", "Queue"), OW.t("取号", "Issued"), OW.t("办结", "Served"), OW.t("过号", "No-show"),
      OW.t("平均等候", "Mean wait"), "P90", OW.t("平均办理", "Mean service"), OW.t("区间命中", "Inside quote"), OW.t("区间宽度", "Range width"), OW.t("预计误差", "Est. error")],
      st.by_queue.map(function (q) {
        return [q.key + " " + q.name, q.issued, q.served, q.no_show, min(q.wait.mean_s), min(q.wait.p90_s), min(q.service.mean_s),
          pct(q.estimate.inside_share), min(q.estimate.mean_width_s), min(q.estimate.mae_s)];
      }));
    table($("#table-clerks"), [OW.t("工作人员", "Clerk"), OW.t("叫号", "Calls"), OW.t("办结", "Served"), OW.t("平均办理", "Mean service"), OW.t("满意率", "Satisfaction")],
      st.by_clerk.map(function (c) { return [c.name || c.key, c.called, c.served, min(c.service.mean_s), pct(c.satisfaction_rate)]; }));
  }

  function load() {
    // Empty dates: the server answers for the hall's own today (its time zone, not this PC's).
    var q = "?from=" + $("#from").value + "&to=" + $("#to").value;
    STAFF.api("GET", base + "stats" + q).then(function (res) {
      if (!res.ok) { fail(res); return; }
      last = res.data;
      $("#from").value = last.from;
      $("#to").value = last.to;
      $("#stats-msg").textContent = "";
      renderKpis(last); renderCharts(last); renderCalibration(last); renderTables(last);
      body.dataset.loaded = "1";
    });
    loadFollowups();
    loadPlan();
  }

  // Tomorrow's staffing plan (Erlang C per hour, as the live advice) and the last plan against what happened.
  function loadPlan() {
    OW.api("GET", base + "stats/plan").then(function (res) {
      if (!res.ok) { fail(res); return; }
      plan = res.data;
      renderPlan(plan);
    });
  }

  function renderPlan(p) {
    var source = { history: OW.t("历史数据", "history"), simulated: OW.t("模拟日（演示）", "the simulated day (demo)"), none: "—" }[p.source];
    $("#plan-basis").textContent = OW.t(p.day + " · 依据：" + source + (p.basis_days.length ? "（" + p.basis_days.join("、") + "）" : "") + " · 目标：" + Math.round(p.share * 100) + "% 的群众 " + p.target_wait_s / 60 + " 分钟内叫号",
      p.day + " · from " + source + (p.basis_days.length ? " (" + p.basis_days.join(", ") + ")" : "") + " · target: " + Math.round(p.share * 100) + "% called within " + p.target_wait_s / 60 + " min");
    chart("chart-plan", {
      data: {
        labels: p.hours.map(function (x) { return x.hour + ":00"; }),
        datasets: [
          { type: "bar", label: OW.t("需开窗口数", "windows needed"), data: p.hours.map(function (x) { return x.windows; }), backgroundColor: "#0b3d91", yAxisID: "y" },
          { type: "line", label: OW.t("预计到达（人/时）", "forecast arrivals (per hour)"), data: p.hours.map(function (x) { return x.arrivals; }), borderColor: "#ffb300", backgroundColor: "#ffb300", yAxisID: "y1" }
        ]
      },
      options: { scales: { y: { beginAtZero: true }, y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } } }
    });
    table($("#table-plan"), [OW.t("时段", "Hour"), OW.t("预计到达（人）", "Arrivals"), OW.t("平均办理（分）", "Mean service (min)"), OW.t("需开窗口数", "Windows")],
      p.hours.map(function (x) { return [x.hour + ":00", x.arrivals, min(x.service_s), x.windows]; }));
    var last = p.last;
    $("#last-plan-title").hidden = !last;
    table($("#table-last-plan"), [OW.t("时段", "Hour"), OW.t("预计到达（人）", "Forecast"), OW.t("实际到达（人）", "Arrived"), OW.t("计划窗口数", "Planned"), OW.t("实际开放窗口数", "Used"), OW.t("实际所需窗口数", "Needed")],
      last ? last.hours.map(function (x) {
        return [x.hour + ":00", x.forecast_arrivals === null ? "—" : x.forecast_arrivals, x.arrivals, x.planned_windows === null ? "—" : x.planned_windows, x.windows_used, x.windows_needed];
      }) : []);
    $("#plan").dataset.windows = p.hours.map(function (x) { return x.windows; }).join(",");
  }

  function loadFollowups() {
    STAFF.api("GET", base + "followups?state=open").then(function (res) {
      if (!res.ok) return;
      table($("#table-followups"), [OW.t("号码", "Ticket"), OW.t("评价", "Rating"), OW.t("原因", "Reasons"), OW.t("意见", "Comment"), OW.t("期限", "Due"), OW.t("办理情况", "What was done"), ""],
        res.data.followups.map(function (f) {
          var input = h("input", { value: f.action, "data-en-placeholder": "what was done", placeholder: "整改情况" });
          var close = h("button", { type: "button", class: "btn btn-small", text: OW.t("办结", "Close"), onclick: function () {
            STAFF.api("POST", base + "followups/" + f.id + "/close", { action: input.value }).then(function (r) {
              if (r.ok) loadFollowups(); else fail(r);
            });
          } });
          var due = h("span", { class: f.overdue ? "overdue" : "", text: f.due_at.slice(0, 10) + (f.overdue ? OW.t(" 已超期", " overdue") : "") });
          return [f.ticket, f.score, (f.reasons || []).join("；"), f.comment, due, input, close];
        }));
    });
  }

  function live() {
    STAFF.api("GET", base + "stats/live").then(function (res) {
      if (!res.ok) { fail(res); return; }
      var d = res.data, a = d.advice;
      $("#live-waiting").textContent = d.waiting;
      $("#live-longest").textContent = OW.t(min(d.longest_wait_s) + " 分", min(d.longest_wait_s) + " min");
      $("#live-open").textContent = d.windows_open;
      $("#live-needed").textContent = a.windows_needed;
      var el = $("#advice");
      el.textContent = OW.lang() === "en" ? a.message_en : a.message_zh;
      el.className = "notice " + (a.behind ? "notice-error" : "notice-ok");
      body.dataset.behind = a.behind ? "1" : "0";
    });
  }
  var PRINTER = { offline: ["离线", "offline"], paper_out: ["缺纸", "paper out"], cover_open: ["上盖打开", "cover open"],
                  stalled: ["卡住（不接收数据）", "stalled"] };
  /* The hall's printers that cannot print now (the server's and the kiosks' own), for the supervisor. */
  function printers() {
    OW.api("GET", base + "printers").then(function (res) {
      if (!res.ok) return;
      var down = res.data.printers.filter(function (p) { return PRINTER[p.state]; });
      OW.fill($("#printer-alerts"), down.map(function (p) {
        var w = PRINTER[p.state];
        // the printer's own detail is English (a device's words): on the Chinese page it is the tooltip
        return h("li", { "data-printer": p.name, title: p.detail,
                         text: p.name + OW.t("：打印机" + w[0], ": printer " + w[1] + " (" + p.detail + ")") });
      }));
      $("#printer-alerts").hidden = !down.length;
    });
  }
  function liveSoon() { if (!pending) pending = setTimeout(function () { pending = null; live(); }, 1000); }

  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("[data-export]");
    if (!b) return;
    var path = base + b.dataset.export + "&from=" + $("#from").value + "&to=" + $("#to").value;
    fetch(path, { headers: { Accept: "application/json" } }).then(function (r) {  // the session cookie
      if (r.status === 401) { STAFF.signIn(); return; }
      if (!r.ok) { r.json().then(function (d) { fail({ status: r.status, data: d }); }); return; }
      var name = (r.headers.get("Content-Disposition") || "").split('filename="')[1] || "export";
      r.blob().then(function (blob) {
        var a = h("a", { href: URL.createObjectURL(blob), download: name.replace('"', "") });
        document.body.appendChild(a); a.click(); a.remove();
      });
    });
  });
  $("#range").addEventListener("submit", function (ev) { ev.preventDefault(); load(); });

  function start() {
    $("#view-stats").hidden = false;
    var params = new URLSearchParams(location.search);
    $("#from").value = params.get("from") || $("#from").value;
    $("#to").value = params.get("to") || $("#to").value;
    load(); live(); printers();
    if (!liveTimer) {
      liveTimer = setInterval(live, 30000);
      OW.live({ hall: hall }, { board: liveSoon, queue_changed: liveSoon, window_updated: liveSoon, ticket_called: liveSoon,
                                printer_status: printers });
    }
  }
  OW.onLang(function () { if (last) { renderKpis(last); renderCharts(last); renderCalibration(last); renderTables(last); live(); printers(); } if (plan) renderPlan(plan); });
  start();
})();
