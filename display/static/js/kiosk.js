/* The entrance kiosk: find a service (category, queue, name, code or pinyin initials), take a ticket. */
(function () {
  "use strict";
  var h = OW.h, $ = OW.$, body = document.body;
  var hall = body.dataset.hall;
  var RETURN_S = Number(body.dataset.returnS) || 30, IDLE_S = Number(body.dataset.idleS) || 90;
  var PAGE_SIZE = 7;  // what fits above the keypad at 1080×1920 without scrolling
  var services = [], queues = [], listing = null, current = null, issued = null, page = 0;
  var idleTimer = null, countdown = null, opening = null, openingTimer = null, issueError = null;
  var KEYS = ["1234567890", "QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM"];

  OW.clock($("#clock"), body.dataset.timezone);

  function show(name) {
    ["home", "detail", "ticket", "checkin", "checkin-failed"].forEach(function (n) { $("#screen-" + n).hidden = n !== name; });
    body.dataset.screen = name;
    window.scrollTo(0, 0);
  }

  /* --- finding a service ------------------------------------------------------------------- */
  var kindText = OW.serviceKind;

  function serviceRow(s) {
    return h("li", {},
      h("button", { type: "button", class: "service-item", "data-code": s.code, onclick: function () { openDetail(s); } },
        h("span", { class: "si-name", text: s.name }),
        h("span", { class: "si-meta" },
          h("span", { class: "si-code", text: s.code }),
          h("span", { class: "si-kind kind-" + s.kind, text: kindText(s) }),
          h("span", { class: "si-dept", text: s.department }))));
  }

  function renderListing() {
    var q = $("#search").value;
    var searching = q.trim() !== "";
    $("#browse").hidden = searching || !!listing;
    $("#results").hidden = !(searching || listing);
    if (!searching && !listing) return;
    var items, title, key = JSON.stringify([q, listing]);
    if (key !== renderListing.key) { renderListing.key = key; page = 0; }
    if (searching) {
      items = OW.searchServices(services, q);
      title = OW.t("搜索：", "Search: ") + q;
    } else if (listing.category) {
      items = services.filter(function (s) { return s.category === listing.category; });
      title = listing.category === "法人" ? OW.t("法人办事", "Enterprises") : OW.t("个人办事", "Individuals");
    } else {
      items = services.filter(function (s) { return s.queue === listing.queue; });
      var qd = queues.filter(function (x) { return x.prefix === listing.queue; })[0];
      title = listing.queue + " · " + (qd ? (OW.lang() === "en" ? qd.name_en : qd.name) : "");
    }
    $("#results-title").textContent = title;
    $("#results-count").textContent = OW.t("共 " + items.length + " 项", items.length + " items");
    var pages = Math.max(1, Math.ceil(items.length / PAGE_SIZE));
    page = Math.min(page, pages - 1);
    var rows = items.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE).map(serviceRow);
    if (!items.length) rows = [h("li", { class: "empty", text: OW.t("没有找到，请换个关键词或按类别查找", "Nothing found: try other letters or browse by category") })];
    OW.fill($("#results-list"), rows);
    $("#pager").hidden = pages < 2;
    $("#page-prev").disabled = page === 0;
    $("#page-next").disabled = page >= pages - 1;
    $("#page-info").textContent = OW.t("第 " + (page + 1) + " / " + pages + " 页", "Page " + (page + 1) + " of " + pages);
    body.dataset.page = String(page + 1);
  }

  $("#page-prev").addEventListener("click", function () { page = Math.max(0, page - 1); renderListing(); });
  $("#page-next").addEventListener("click", function () { page += 1; renderListing(); });

  function renderQueues() {
    var grid = $("#queue-grid");
    OW.fill(grid, queues.map(function (q, i) {
      return h("button", { type: "button", class: "queue-tile tile-" + (i % 6), "data-queue": q.prefix,
                           onclick: function () { listing = { queue: q.prefix }; renderListing(); } },
        h("span", { class: "qt-prefix", text: q.prefix }),
        h("span", { class: "qt-name", text: OW.lang() === "en" ? q.name_en || q.name : q.name }),
        q.waiting === undefined ? null : h("span", { class: "qt-wait", text: OW.t("等候 " + q.waiting + " 人", q.waiting + " waiting") }));
    }));
  }

  document.querySelectorAll("[data-category]").forEach(function (b) {
    b.addEventListener("click", function () { listing = { category: b.dataset.category }; renderListing(); });
  });
  $("#results-back").addEventListener("click", function () { listing = null; $("#search").value = ""; renderListing(); });
  $("#search").addEventListener("input", renderListing);
  $("#search-clear").addEventListener("click", function () { $("#search").value = ""; renderListing(); });

  OW.fill($("#keypad"), KEYS.map(function (row) {
    return h("div", { class: "key-row" }, row.split("").map(function (k) {
      return h("button", { type: "button", class: "key", "data-key": k.toLowerCase(), text: k });
    }));
  }).concat([h("div", { class: "key-row" },
    h("button", { type: "button", class: "key key-wide", "data-key": "backspace", "aria-label": "backspace", text: "⌫" }),
    h("button", { type: "button", class: "key key-wide", "data-key": "clear", "data-en": "Clear", text: "清空" }))]));
  $("#keypad").addEventListener("click", function (ev) {
    var key = ev.target.closest("[data-key]");
    if (!key) return;
    var input = $("#search"), k = key.dataset.key;
    if (k === "backspace") input.value = input.value.slice(0, -1);
    else if (k === "clear") input.value = "";
    else if (input.value.length < 32) input.value += k;
    renderListing();
  });

  /* --- one service and the ticket ---------------------------------------------------------- */
  function openDetail(s) {
    current = s;
    renderDetail();
    issueError = null;
    renderIssueError();
    $("#with-materials").checked = false;
    show("detail");
  }

  function renderDetail() {
    var s = current;
    if (!s) return;
    $("#d-name").textContent = s.name;
    OW.fill($("#d-tags"), [h("span", { class: "tag kind-" + s.kind, text: kindText(s) }),
                           h("span", { class: "tag", text: s.category === "法人" ? OW.t("法人", "Enterprise") : OW.t("个人", "Individual") }),
                           h("span", { class: "tag", text: s.code })]);
    var facts = [
      [OW.t("受理部门", "Department"), s.department],
      [OW.t("承诺时限", "Time limit"), s.kind === "instant" ? OW.t("当场办结", "Done on the spot")
        : OW.t(s.time_limit_days + " 个工作日", s.time_limit_days + " working days")],
      [OW.t("办理队列", "Queue"), s.queue + " · " + s.queue_name]
    ];
    if (s.basis) facts.push([OW.t("设定依据", "Legal basis"), s.basis]);
    OW.fill($("#d-facts"), facts.map(function (f) { return [h("dt", { text: f[0] }), h("dd", { text: f[1] })]; })
      .reduce(function (a, b) { return a.concat(b); }, []));
    OW.fill($("#d-materials"), (s.materials || []).length
      ? s.materials.map(function (m) { return h("li", { text: m }); })
      : [h("li", { class: "empty", text: OW.t("无需材料", "No materials needed") })]);
  }

  $("#detail-back").addEventListener("click", function () { show("home"); });
  $("#issue").addEventListener("click", function () {
    var btn = $("#issue");
    btn.disabled = true;
    OW.api("POST", "/api/v1/halls/" + encodeURIComponent(hall) + "/tickets",
           { service: current.code, channel: "kiosk", with_materials: $("#with-materials").checked }).then(function (res) {
      btn.disabled = false;
      if (!res.ok) {
        issueError = res.data.error;
        renderIssueError();
        if (issueError.code === "hall_closed") loadOpening();
        return;
      }
      issued = res.data;
      renderTicket();
      show("ticket");
      startCountdown();
      if (issued.print_job) { checkPrintJob(); checkPrinter(); }
    });
  });

  function renderIssueError() {
    var box = $("#issue-error");
    box.hidden = !issueError;
    if (issueError) box.textContent = OW.t("取号失败：", "Could not issue a ticket: ") + OW.errorText(issueError);
  }

  /* --- open or closed: the home screen says so, and when that changes ---------------------- */
  var localDate = new Intl.DateTimeFormat("en-CA", { timeZone: body.dataset.timezone || "Asia/Shanghai",
                                                      year: "numeric", month: "2-digit", day: "2-digit" });
  function dayWord(iso) {
    var today = localDate.format(new Date()), date = iso.slice(0, 10);
    var tomorrow = localDate.format(new Date(Date.now() + 864e5));
    if (date === today) return OW.t("今天", "today");
    if (date === tomorrow) return OW.t("明天", "tomorrow");
    return date.slice(5).replace("-", "/");
  }

  function renderOpening() {
    var closed = !!opening && !opening.open;
    body.dataset.open = closed ? "0" : "1";
    $("#closed").hidden = !closed;
    $("#issue").disabled = closed;
    var box = $("#detail-closed");
    box.hidden = !closed;
    if (!closed) return;
    var hours = opening.hours.map(function (x) { return x.replace("-", "–"); });
    var next = opening.changes_at;
    $("#closed-next").textContent = next
      ? OW.t(dayWord(next) + " " + next.slice(11, 16) + " 开始取号", "Tickets again from " + next.slice(11, 16) + " " + dayWord(next))
      : OW.t("请咨询工作人员", "Please ask the staff");
    $("#closed-hours").textContent = OW.t("取号时间：每天 " + hours.join("、"), "Ticket hours: daily " + hours.join(", "));
    box.textContent = OW.t("现在暂停取号。", "No tickets now. ") + $("#closed-next").textContent;
  }

  function loadOpening() {
    OW.api("GET", "/api/v1/halls/" + encodeURIComponent(hall) + "/opening").then(function (res) {
      if (!res.ok) return;
      opening = res.data;
      renderOpening();
      clearTimeout(openingTimer);
      // ask again when it should change (a second late), and at least every minute in case clocks differ
      var wait = opening.changes_at ? Date.parse(opening.changes_at) - Date.now() + 1000 : 60000;
      openingTimer = setTimeout(loadOpening, Math.max(1000, Math.min(60000, wait)));
    });
  }

  function printState() {
    var job = issued.print_job;
    if (!job) return ["warn", OW.t("本机未打印号票，请拍照或扫码保存您的号码", "No paper ticket from this machine: take a photo or scan the QR code")];
    if (job.state === "failed" || job.offline) {
      return ["fail", OW.t("打印机故障，请拍照或扫码保存您的号码。您的号码依然有效。",
                           "Printer fault: take a photo or scan the QR code. Your number is still valid.")];
    }
    if (job.state === "printed") return ["ok", OW.t("号票已打印，请取走", "Ticket printed: please take it")];
    return ["busy", OW.t("正在打印号票…", "Printing your ticket…")];
  }

  var ARRIVAL = {
    on_time: ["您的预约号将优先叫号，请留意叫号屏", "Your booked number is called first: watch the display"],
    late: ["您已超过预约时间，按普通号排队", "You are past your booking time: you queue as a walk-in"],
    remote: ["轮到您时将叫号，请在大厅等候", "You will be called when it is your turn: please wait in the hall"]
  };

  function renderTicket() {
    if (!issued) return;
    var arrival = ARRIVAL[issued.checkin];
    $("#k-checkin").hidden = !arrival;
    if (arrival) $("#k-checkin-text").textContent = OW.t(arrival[0], arrival[1]);
    $("#k-number").textContent = issued.number;
    $("#k-service").textContent = issued.service.name;
    $("#k-ahead").textContent = OW.t(issued.ahead + " 人", String(issued.ahead));
    $("#k-wait").textContent = OW.waitText(issued.estimated_wait);
    var qr = $("#k-qr");
    // a remote ticket checked in by its number comes without its id: the holder's phone already has it
    $(".k-qr-row").hidden = !issued.id;
    if (issued.id) {
      var link = body.dataset.baseUrl.replace(/\/$/, "") + "/t/" + encodeURIComponent(issued.id);
      qr.src = "/qr.svg?data=" + encodeURIComponent(link);
      qr.dataset.link = link;
    }
    var ps = printState(), box = $("#k-print");
    box.className = "k-print print-" + ps[0];
    box.dataset.state = issued.print_job ? issued.print_job.state : "none";
    box.textContent = ps[1];
  }

  function onPrintJob(job) {
    if (!issued || !issued.print_job || !job || job.id !== issued.print_job.id) return;
    issued.print_job = Object.assign({}, issued.print_job, job);
    renderTicket();
  }

  var PRINTER_DOWN = ["offline", "paper_out", "cover_open", "stalled", "error"];
  var myPrinter = null;  // this kiosk's printer (a registered kiosk: its configured one, or its agent's)
  function onPrinterStatus(st) {
    if (st && myPrinter && (st.printer || st.name) === myPrinter) {
      var down = PRINTER_DOWN.indexOf(st.state) >= 0;
      $("#k-printer-down").hidden = !down;
      body.dataset.printer = st.state;
    }
    if (!issued || !issued.print_job || !st || (st.printer || st.name) !== issued.print_job.printer) return;
    issued.print_job.offline = PRINTER_DOWN.indexOf(st.state) >= 0;
    renderTicket();
  }

  function checkPrintJob() {
    // the job may have printed before the answer reached us: ask once for where it stands now
    OW.api("GET", "/api/v1/tickets/" + encodeURIComponent(issued.id) + "/print").then(function (res) {
      if (res.ok && res.data) onPrintJob(res.data);
    });
  }

  function checkPrinter() {
    OW.api("GET", "/api/v1/halls/" + encodeURIComponent(hall) + "/printers").then(function (res) {
      var list = res.ok && res.data ? (res.data.printers || res.data) : [];
      if (Array.isArray(list)) list.forEach(onPrinterStatus);
    });
  }

  function startCountdown() {
    var left = RETURN_S;
    clearInterval(countdown);
    function tick() {
      $("#k-countdown").textContent = OW.t(left + " 秒后自动返回首页", "Back to the start in " + left + " s");
      if (left-- <= 0) home();
    }
    tick();
    countdown = setInterval(tick, 1000);
  }

  function home() {
    clearInterval(countdown);
    issued = null; current = null; listing = null;
    if (OW.lang() !== "zh") OW.setLang("zh");  // the next citizen starts in Chinese
    $("#search").value = "";
    renderListing();
    show("home");
  }
  $("#k-done").addEventListener("click", home);

  // nobody touching the screen: go back to the start for the next person
  function touched() {
    clearTimeout(idleTimer);
    if (body.dataset.screen === "ticket") return;
    idleTimer = setTimeout(function () {
      if (body.dataset.screen !== "home" || listing || $("#search").value || OW.lang() !== "zh") home();
    }, IDLE_S * 1000);
  }
  ["pointerdown", "keydown", "input"].forEach(function (e) { document.addEventListener(e, touched, true); });

  /* --- data ------------------------------------------------------------------------------- */
  function loadServices() {
    OW.api("GET", "/api/v1/halls/" + encodeURIComponent(hall) + "/services").then(function (res) {
      if (!res.ok) { setTimeout(loadServices, 3000); return; }
      services = res.data.services;
      if (!queues.length) {
        var seen = {};
        services.forEach(function (s) { if (!seen[s.queue]) { seen[s.queue] = 1; queues.push({ prefix: s.queue, name: s.queue_name }); } });
        renderQueues();
      }
      body.dataset.services = String(services.length);
      renderListing();
    });
  }

  OW.live({ hall: hall }, {
    board: function (snap) {
      queues = snap.queues;
      renderQueues();
      loadOpening();  // (re)connected: the hours may have changed meanwhile
      if (myPrinter) checkPrinter();  // (re)connected: the printer may have changed meanwhile
    },
    hall_updated: loadOpening,
    queue_changed: function (d) { queues = d.queues; renderQueues(); },
    services_changed: loadServices,  // an admin changed the catalog: offer the new list at once
    print_job: onPrintJob,
    printer_status: onPrinterStatus
  });

  OW.onLang(function () { renderQueues(); renderListing(); renderDetail(); renderTicket(); renderIssueError(); renderOpening(); });
  if (OW.device) {
    OW.api("GET", "/api/v1/device").then(function (res) {
      if (!res.ok || !res.data) return;
      myPrinter = res.data.agent ? res.data.name : res.data.printer;
      checkPrinter();
    });
  }
  loadServices();
  renderQueues();
  show("home");
  window.OWKiosk = { services: function () { return services; }, issued: function () { return issued; }, show: show, home: home,
    showTicket: function (t, checkin) {
      issued = Object.assign({}, t, { checkin: checkin });
      renderTicket(); show("ticket"); startCountdown();
      if (t.print_job) { checkPrintJob(); checkPrinter(); }
    } };
})();
