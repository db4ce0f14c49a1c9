/* Administration: a hall's settings, queues, items (with CSV import preview), windows, staff, devices, log. */
(function () {
  "use strict";
  var h = OW.h, $ = OW.$, body = document.body;
  var S = { halls: [], hall: body.dataset.hall || "", section: body.dataset.section || "settings", queues: [],
            services: { offset: 0, limit: 50, total: 0 }, csv: null, editing: {} };
  var PAGE = 50;
  var ROLE = { clerk: ["窗口人员", "clerk"], supervisor: ["主管", "supervisor"], admin: ["管理员", "admin"] };
  var KIND = { instant: ["即办件", "instant"], promised: ["承诺件", "promised"] };
  var CATEGORY = { "法人": ["法人", "enterprise"], "个人": ["个人", "individual"] };
  var DEVICE = { kiosk: ["取号机", "kiosk"], board: ["大厅屏", "hall board"], window: ["窗口屏", "window screen"], rating: ["评价器", "rating screen"] };
  var PRINTER = { online: ["在线", "online"], offline: ["离线", "offline"], paper_out: ["缺纸", "paper out"],
                  cover_open: ["上盖打开", "cover open"], stalled: ["卡住（不接收数据）", "stalled"], unknown: ["未知", "unknown"] };
  var ACTION = { create: ["新建", "created"], update: ["修改", "changed"], "delete": ["删除", "deleted"], disable: ["停用", "disabled"],
                 enable: ["启用", "enabled"], password: ["重置密码", "password reset"], "import": ["导入", "imported"], reorder: ["排序", "reordered"],
                 revoke: ["吊销", "revoked"] };
  function word(map, key) { var w = map[key]; return w ? OW.t(w[0], w[1]) : key; }
  function hallPath() { return "/admin/halls/" + encodeURIComponent(S.hall); }
  function answer(ok, text) { ADM.message($("#answer"), ok, text); }
  function errorText(res) { return (res.data && res.data.error && res.data.error.message) || ("HTTP " + res.status); }

  /* --- forms ------------------------------------------------------------------------------ */
  function values(form) {
    var out = {};
    form.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (el) {
      if (el.type === "file") return;
      out[el.name] = el.type === "number" ? (el.value === "" ? null : Number(el.value)) : el.value;
    });
    return out;
  }
  function lines(text) { return String(text || "").split("\n").map(function (x) { return x.trim(); }).filter(Boolean); }
  function fillForm(form, data) {
    Object.keys(data).forEach(function (k) {
      var el = form.querySelector('[name="' + k + '"]');
      if (el) el.value = Array.isArray(data[k]) ? data[k].join("\n") : (data[k] === null || data[k] === undefined ? "" : data[k]);
    });
  }
  function editMode(form, key, titleZh, titleEn) {
    S.editing[form.id] = key;
    var title = form.querySelector("[data-mode-title]");
    if (title) { title.dataset.zh = titleZh; title.dataset.en = titleEn; title.textContent = OW.t(titleZh, titleEn); }
    form.dataset.editing = key || "";
    ADM.clearErrors(form);
  }
  function newMode(form, titleZh, titleEn) {
    form.reset();
    editMode(form, null, titleZh, titleEn);
  }
  /* A delete button asks once more on the button itself (no browser dialog). */
  function confirmButton(zh, en, run) {
    var b = h("button", { type: "button", class: "mini danger", text: OW.t(zh, en) });
    b.addEventListener("click", function () {
      if (b.dataset.armed) { run(); return; }
      b.dataset.armed = "1"; b.textContent = OW.t("确认" + zh + "？", "Really " + en.toLowerCase() + "?");
    });
    return b;
  }
  function mini(zh, en, run, cls) { return h("button", { type: "button", class: "mini " + (cls || ""), text: OW.t(zh, en), onclick: run }); }

  /* --- navigation ------------------------------------------------------------------------- */
  function show(section) {
    S.section = section;
    document.querySelectorAll("section[data-section]").forEach(function (el) { el.hidden = el.dataset.section !== section; });
    document.querySelectorAll("[data-tab]").forEach(function (a) { a.classList.toggle("active", a.dataset.tab === section); });
    body.dataset.section = section;
    history.replaceState(null, "", "/admin/" + encodeURIComponent(S.hall) + "/" + section);
    $("#answer").textContent = ""; $("#answer").className = "msg";
    LOAD[section]();
  }
  $("#tabs").addEventListener("click", function (ev) {
    var a = ev.target.closest("[data-tab]");
    if (!a) return;
    ev.preventDefault();
    show(a.dataset.tab);
  });
  $("#hall-select").addEventListener("change", function () { S.hall = $("#hall-select").value; loadQueues().then(function () { show(S.section); }); });

  function start() {
    $("#view-admin").hidden = false;
    document.querySelectorAll(".admin-only").forEach(function (el) { el.hidden = ADM.user.role !== "admin"; });
    $("#central-link").hidden = false;
    ADM.api("GET", "/admin/halls").then(function (res) {
      if (!res.ok) { answer(false, errorText(res)); return; }
      S.halls = res.data.halls;
      if (!S.halls.some(function (x) { return x.code === S.hall; })) S.hall = S.halls.length ? S.halls[0].code : "";
      renderHallSelect();
      loadQueues().then(function () { show(S.section); });
    });
  }
  function renderHallSelect() {
    OW.fill($("#hall-select"), S.halls.map(function (x) {
      return h("option", { value: x.code, text: (OW.lang() === "en" && x.name_en ? x.name_en : x.name) + " (" + x.code + ")", selected: x.code === S.hall });
    }));
    $(".bar-hall").hidden = false;
    OW.fill($('#user-form [name="hall"]'), [ADM.user.role === "admin" ? h("option", { value: "", text: OW.t("（无，仅管理员）", "(none, admins only)") }) : null]
      .concat(S.halls.map(function (x) { return h("option", { value: x.code, text: x.name + " (" + x.code + ")" }); })));
  }
  function loadQueues() {
    if (!S.hall) return Promise.resolve();
    return ADM.api("GET", hallPath() + "/queues").then(function (res) {
      if (!res.ok) { answer(false, errorText(res)); return; }
      S.queues = res.data.queues;
      var opts = S.queues.map(function (q) { return h("option", { value: q.prefix, text: q.prefix + " · " + q.name }); });
      OW.fill($('#service-form [name="queue"]'), opts);
      OW.fill($("#service-queue"), [h("option", { value: "", text: OW.t("全部队列", "All queues") })].concat(
        S.queues.map(function (q) { return h("option", { value: q.prefix, text: q.prefix + " · " + q.name }); })));
      OW.fill($("#window-queues"), S.queues.map(function (q) {
        return h("label", { class: "check" }, h("input", { type: "checkbox", value: q.prefix, name: "q-" + q.prefix }), " " + q.prefix + " · " + q.name);
      }));
    });
  }

  /* --- hall settings ---------------------------------------------------------------------- */
  function loadSettings() {
    ADM.api("GET", hallPath()).then(function (res) {
      if (!res.ok) { answer(false, errorText(res)); return; }
      fillForm($("#hall-form"), res.data);
      fillMore(res.data.settings || {});
    });
  }
  /* Every other setting: numbers, one reason a line, and each section as JSON. */
  function fillMore(settings) {
    var form = $("#hall-more-form");
    form.querySelectorAll("[name]").forEach(function (el) {
      var v = settings[el.name];
      if (el.hasAttribute("data-json")) el.value = v === undefined ? "" : JSON.stringify(v, null, 2);
      else if (Array.isArray(v)) el.value = v.join("\n");
      else el.value = v === undefined || v === null ? "" : v;
    });
  }
  $("#hall-more-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var form = ev.target, v = {}, bad = null;
    ADM.clearErrors(form);
    form.querySelectorAll("[name]").forEach(function (el) {
      if (bad) return;
      if (el.hasAttribute("data-json")) {
        try { v[el.name] = JSON.parse(el.value || "{}"); } catch (e) { bad = el.name; }
      } else if (el.name === "call_reasons" || el.name === "poor_rating_reasons") v[el.name] = lines(el.value);
      else if (el.value !== "") v[el.name] = Number(el.value);
    });
    if (bad) {
      ADM.showResult(form, { ok: false, data: { error: { field: bad, message: OW.t("不是有效的 JSON", "not valid JSON") } } });
      return;
    }
    ADM.api("PATCH", hallPath(), v).then(function (res) {
      var err = res.data && res.data.error;
      if (err && err.field && err.field.indexOf(".") > 0) err.field = err.field.split(".")[0];  // shown at its section
      if (ADM.showResult(form, res, OW.t("已保存", "Saved"))) { fillMore(res.data.settings || {}); fillForm($("#hall-form"), res.data); }
    });
  });
  $("#hall-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var v = values(ev.target);
    v.opening_hours = lines(v.opening_hours); v.notices = lines(v.notices);
    ADM.api("PATCH", hallPath(), v).then(function (res) {
      if (ADM.showResult(ev.target, res, OW.t("已保存", "Saved"))) {
        fillForm(ev.target, res.data);
        fillMore(res.data.settings || {});
        S.halls.forEach(function (x) { if (x.code === res.data.code) { x.name = res.data.name; x.name_en = res.data.name_en; } });
        renderHallSelect();
      }
    });
  });
  $("#new-hall-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    ADM.api("POST", "/admin/halls", values(ev.target)).then(function (res) {
      if (ADM.showResult(ev.target, res, OW.t("已新建大厅 ", "Created hall ") + (res.data && res.data.code))) {
        S.halls.push(res.data); S.hall = res.data.code; renderHallSelect(); loadQueues().then(function () { show("queues"); });
      }
    });
  });

  /* --- queues ----------------------------------------------------------------------------- */
  function renderQueues() {
    OW.fill($("#queue-table tbody"), S.queues.map(function (q, i) {
      return h("tr", { "data-prefix": q.prefix },
        h("td", {}, mini("↑", "↑", function () { move(i, -1); }), mini("↓", "↓", function () { move(i, 1); })),
        h("td", { class: "strong", text: q.prefix }), h("td", { text: q.name }), h("td", { text: q.name_en }),
        h("td", { text: String(q.items) }),
        h("td", {}, mini("编辑", "Edit", function () {
          fillForm($("#queue-form"), q); editMode($("#queue-form"), q.prefix, "修改队列 " + q.prefix, "Edit queue " + q.prefix);
        }), confirmButton("删除", "Delete", function () { remove("/queues/" + encodeURIComponent(q.prefix), loadQueuesAndRender); })));
    }));
  }
  function loadQueuesAndRender() { return loadQueues().then(renderQueues); }
  function move(i, step) {
    var order = S.queues.map(function (q) { return q.prefix; });
    var j = i + step;
    if (j < 0 || j >= order.length) return;
    var t = order[i]; order[i] = order[j]; order[j] = t;
    ADM.api("PUT", hallPath() + "/queues/order", { prefixes: order }).then(function (res) {
      if (!res.ok) { answer(false, errorText(res)); return; }
      answer(true, OW.t("已调整顺序", "Order saved"));
      loadQueuesAndRender();
    });
  }
  function remove(path, then) {
    ADM.api("DELETE", hallPath() + path).then(function (res) {
      if (!res.ok) { answer(false, errorText(res)); return; }
      answer(true, OW.t("已删除", "Deleted"));
      then();
    });
  }
  $("#queue-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var form = ev.target, key = S.editing[form.id], v = values(form);
    v.prefix = v.prefix.trim().toUpperCase();
    var req = key ? ADM.api("PATCH", hallPath() + "/queues/" + encodeURIComponent(key), v) : ADM.api("POST", hallPath() + "/queues", v);
    req.then(function (res) {
      if (ADM.showResult(form, res, OW.t("已保存队列 ", "Saved queue ") + v.prefix)) {
        newMode(form, "新增队列", "Add a queue");
        ADM.message(form.querySelector(".form-msg"), true, OW.t("已保存队列 ", "Saved queue ") + res.data.prefix);
        loadQueuesAndRender();
      }
    });
  });

  /* --- service items ---------------------------------------------------------------------- */
  var searchTimer = null;
  function loadServices() {
    var q = new URLSearchParams({ q: $("#service-search").value, queue: $("#service-queue").value, state: $("#service-state").value,
                                  limit: String(PAGE), offset: String(S.services.offset) });
    ADM.api("GET", hallPath() + "/services?" + q.toString()).then(function (res) {
      if (!res.ok) { answer(false, errorText(res)); return; }
      S.services = res.data;
      var from = res.data.total ? res.data.offset + 1 : 0, to = res.data.offset + res.data.services.length;
      $("#service-total").textContent = OW.t("共 " + res.data.total + " 项，第 " + from + "–" + to + " 项", res.data.total + " items, " + from + "–" + to);
      $("#service-prev").disabled = res.data.offset === 0;
      $("#service-next").disabled = to >= res.data.total;
      OW.fill($("#service-table tbody"), res.data.services.map(function (s) {
        return h("tr", { "data-code": s.code, class: s.active ? "" : "inactive" },
          h("td", { class: "strong", text: s.code }), h("td", { text: s.name }), h("td", { text: s.queue }), h("td", { text: s.department }),
          h("td", { text: word(CATEGORY, s.category) }), h("td", { text: word(KIND, s.kind) + (s.kind === "promised" ? " · " + s.time_limit_days + OW.t(" 天", " d") : "") }),
          h("td", { text: s.active ? OW.t("启用", "active") : OW.t("停用", "disabled") }),
          h("td", {}, mini("编辑", "Edit", function () {
            fillForm($("#service-form"), s); editMode($("#service-form"), s.code, "修改事项 " + s.code, "Edit item " + s.code);
            $("#service-form").scrollIntoView();
          }), mini(s.active ? "停用" : "启用", s.active ? "Disable" : "Enable", function () {
            ADM.api("PATCH", hallPath() + "/services/" + encodeURIComponent(s.code), { active: !s.active }).then(function (r) {
              if (!r.ok) { answer(false, errorText(r)); return; }
              answer(true, (r.data.active ? OW.t("已启用 ", "Enabled ") : OW.t("已停用 ", "Disabled ")) + s.code);
              loadServices();
            });
          }), confirmButton("删除", "Delete", function () { remove("/services/" + encodeURIComponent(s.code), loadServices); })));
      }));
    });
  }
  $("#service-search").addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () { S.services.offset = 0; loadServices(); }, 250);
  });
  ["#service-queue", "#service-state"].forEach(function (sel) { $(sel).addEventListener("change", function () { S.services.offset = 0; loadServices(); }); });
  $("#service-prev").addEventListener("click", function () { S.services.offset = Math.max(0, S.services.offset - PAGE); loadServices(); });
  $("#service-next").addEventListener("click", function () { S.services.offset += PAGE; loadServices(); });
  $("#service-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var form = ev.target, key = S.editing[form.id], v = values(form);
    v.materials = lines(v.materials);
    var req = key ? ADM.api("PATCH", hallPath() + "/services/" + encodeURIComponent(key), v) : ADM.api("POST", hallPath() + "/services", v);
    req.then(function (res) {
      if (ADM.showResult(form, res, "")) {
        newMode(form, "新增事项", "Add a service item");
        ADM.message(form.querySelector(".form-msg"), true, OW.t("已保存事项 ", "Saved item ") + res.data.code);
        loadServices();
      }
    });
  });

  $("#csv-export").addEventListener("click", function () {
    fetch("/api/v1" + hallPath() + "/services/export", { headers: { Accept: "text/csv" } }).then(function (r) {  // the session cookie
      if (r.status === 401) { STAFF.signIn(); return null; }
      if (!r.ok) { ADM.message($("#csv-msg"), false, "HTTP " + r.status); return null; }
      return r.blob();
    }).then(function (blob) {
      if (!blob) return;
      var a = h("a", { href: URL.createObjectURL(blob), download: "services-" + S.hall + ".csv" });
      document.body.appendChild(a); a.click(); a.remove();
    });
  });
  $("#csv-file").addEventListener("change", function (ev) {
    var file = ev.target.files[0];
    $("#csv-preview").hidden = true;
    if (!file) return;
    file.text().then(function (text) {
      S.csv = text;
      ADM.message($("#csv-msg"), null, OW.t("正在检查…", "Checking…"));
      ADM.api("POST", hallPath() + "/services/import", { csv: text, apply: false }).then(renderPreview);
    });
  });
  function describe(changes) {
    return Object.keys(changes).map(function (k) {
      var pair = changes[k].map(function (v) { return Array.isArray(v) ? v.join("；") : (v === null ? "—" : String(v)); });
      return k + ": " + pair[0] + " → " + pair[1];
    }).join("；");
  }
  function renderPreview(res) {
    if (!res.ok) { ADM.message($("#csv-msg"), false, errorText(res)); return; }
    var p = res.data;
    $("#csv-preview").hidden = false;
    $("#csv-summary").textContent = OW.t("新增 " + p["new"].length + " 项，修改 " + p.changed.length + " 项，不变 " + p.unchanged + " 项，错误 " + p.errors.length + " 处",
      p["new"].length + " new, " + p.changed.length + " changed, " + p.unchanged + " unchanged, " + p.errors.length + " errors");
    $("#csv-errors").hidden = !p.errors.length;
    OW.fill($("#csv-errors tbody"), p.errors.map(function (e) {
      return h("tr", { class: "error-row", "data-line": String(e.line) }, h("td", { text: OW.t("第 " + e.line + " 行", "line " + e.line) }), h("td", { text: OW.errorText(e) }));
    }));
    OW.fill($("#csv-changes tbody"), p["new"].map(function (n) {
      return h("tr", { "data-code": n.code }, h("td", { text: String(n.line) }), h("td", { text: n.code }), h("td", { text: OW.t("新增：", "new: ") + n.name }));
    }).concat(p.changed.map(function (c) {
      return h("tr", { "data-code": c.code }, h("td", { text: String(c.line) }), h("td", { text: c.code }), h("td", { text: describe(c.changes) }));
    })));
    $("#csv-apply").disabled = p.errors.length > 0 || (!p["new"].length && !p.changed.length);
    if (p.errors.length) ADM.message($("#csv-msg"), false, OW.t("文件有错误，未导入任何内容；请改正后重新选择文件", "The file has errors; nothing was imported. Fix it and choose it again"));
    else ADM.message($("#csv-msg"), null, OW.t("请核对变化，然后确认导入", "Check the changes, then apply the import"));
  }
  $("#csv-apply").addEventListener("click", function () {
    if (S.csv === null) return;
    $("#csv-apply").disabled = true;
    ADM.api("POST", hallPath() + "/services/import", { csv: S.csv, apply: true }).then(function (res) {
      if (!res.ok) { ADM.message($("#csv-msg"), false, errorText(res)); return; }
      ADM.message($("#csv-msg"), true, OW.t("已导入：新增 " + res.data.created + " 项，修改 " + res.data.updated + " 项",
        "Imported: " + res.data.created + " new, " + res.data.updated + " changed"));
      $("#csv-preview").hidden = true; S.csv = null; $("#csv-file").value = "";
      loadQueues(); loadServices();
    });
  });

  /* --- windows ---------------------------------------------------------------------------- */
  function loadWindows() {
    ADM.api("GET", hallPath() + "/windows").then(function (res) {
      if (!res.ok) { answer(false, errorText(res)); return; }
      OW.fill($("#window-table tbody"), res.data.windows.map(function (w) {
        var state = w.active ? OW.windowState(w.state) : OW.t("已停用", "disabled");
        return h("tr", { "data-number": String(w.number), class: w.active ? "" : "inactive" },
          h("td", { class: "strong", text: String(w.number) }), h("td", { text: w.name }), h("td", { text: w.queues.join(" ") }),
          h("td", { text: state + (w.busy ? OW.t("（办理中）", " (busy)") : "") }),
          h("td", {}, mini("编辑", "Edit", function () { editWindow(w); }),
            w.active ? mini(w.state === "closed" ? "开放" : "关闭", w.state === "closed" ? "Open" : "Close", function () { patchWindow(w.number, { state: w.state === "closed" ? "open" : "closed" }); }) : null,
            mini(w.active ? "停用" : "启用", w.active ? "Disable" : "Enable", function () { patchWindow(w.number, { active: !w.active }); }),
            confirmButton("删除", "Delete", function () { remove("/windows/" + w.number, loadWindows); })));
      }));
    });
  }
  function patchWindow(number, change) {
    ADM.api("PATCH", hallPath() + "/windows/" + number, change).then(function (res) {
      if (!res.ok) { answer(false, errorText(res)); return; }
      answer(true, OW.t("已更新 " + number + " 号窗口", "Window " + number + " updated"));
      loadWindows();
    });
  }
  function editWindow(w) {
    var form = $("#window-form");
    fillForm(form, { number: w.number, name: w.name, name_en: w.name_en });
    form.querySelectorAll("#window-queues input").forEach(function (c) { c.checked = w.queues.indexOf(c.value) >= 0; });
    editMode(form, String(w.number), "修改 " + w.number + " 号窗口", "Edit window " + w.number);
  }
  $("#window-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var form = ev.target, key = S.editing[form.id], v = values(form);
    Object.keys(v).forEach(function (k) { if (k.slice(0, 2) === "q-") delete v[k]; });
    v.queues = [].slice.call(form.querySelectorAll("#window-queues input:checked")).map(function (c) { return c.value; });
    var req = key ? ADM.api("PATCH", hallPath() + "/windows/" + key, v) : ADM.api("POST", hallPath() + "/windows", v);
    req.then(function (res) {
      if (ADM.showResult(form, res, "")) {
        newMode(form, "新增窗口", "Add a window");
        ADM.message(form.querySelector(".form-msg"), true, OW.t("已保存 " + res.data.number + " 号窗口", "Saved window " + res.data.number));
        loadWindows();
      }
    });
  });

  /* --- staff ------------------------------------------------------------------------------ */
  function loadUsers() {
    ADM.api("GET", "/admin/users" + (ADM.user.role === "admin" ? "" : "?hall=" + encodeURIComponent(S.hall))).then(function (res) {
      if (!res.ok) { answer(false, errorText(res)); return; }
      OW.fill($("#user-table tbody"), res.data.users.map(function (u) {
        return h("tr", { "data-username": u.username, class: u.active ? "" : "inactive" },
          h("td", { class: "strong", text: u.username }), h("td", { text: u.display_name }), h("td", { text: u.staff_number || "—" }),
          h("td", { class: "has-photo", text: u.photo ? "✓" : "—" }), h("td", { text: word(ROLE, u.role) }),
          h("td", { text: u.hall || "—" }), h("td", { text: u.active ? OW.t("启用", "active") : OW.t("停用", "disabled") }),
          h("td", {}, mini("编辑", "Edit", function () {
            var form = $("#user-form");
            fillForm(form, { username: u.username, display_name: u.display_name, staff_number: u.staff_number, role: u.role, hall: u.hall || "", password: "" });
            editMode(form, u.username, "修改人员 " + u.username, "Edit " + u.username);
            showPhoto(u);
          }), mini(u.active ? "停用" : "启用", u.active ? "Disable" : "Enable", function () {
            ADM.api("PATCH", "/admin/users/" + encodeURIComponent(u.username), { active: !u.active }).then(function (r) {
              if (!r.ok) { answer(false, errorText(r)); return; }
              answer(true, (r.data.active ? OW.t("已启用 ", "Enabled ") : OW.t("已停用 ", "Disabled ")) + u.username);
              loadUsers();
            });
          })));
      }));
    });
  }
  /* 亮身份: the photo a window screen shows; sent as base64, checked and re-encoded by the server. */
  var PHOTO_MAX = 2 * 1024 * 1024;
  function showPhoto(u) {
    var box = $("#user-photo");
    box.hidden = true;
    if (!u || !u.photo) return;
    ADM.api("GET", "/admin/users/" + encodeURIComponent(u.username) + "/photo").then(function (res) {
      if (!res.ok || S.editing["user-form"] !== u.username) return;
      box.querySelector("img").src = res.data.image;
      box.hidden = false;
    });
  }
  $("#user-photo-remove").addEventListener("click", function () {
    var key = S.editing["user-form"];
    ADM.api("DELETE", "/admin/users/" + encodeURIComponent(key) + "/photo").then(function (res) {
      if (!res.ok) { answer(false, errorText(res)); return; }
      $("#user-photo").hidden = true;
      answer(true, OW.t("已删除照片：", "Photo removed: ") + key);
      loadUsers();
    });
  });
  /* Upload the chosen photo (if any) for `username`; resolves with an API answer (a 204-like ok when none). */
  function uploadPhoto(username) {
    var file = $('#user-form [name="photo"]').files[0];
    if (!file) return Promise.resolve({ ok: true, status: 204, data: null });
    if (file.size > PHOTO_MAX) {
      return Promise.resolve({ ok: false, status: 413, data: { error: { field: "photo",
        message: OW.t("照片：不能超过 2 MB", "photo: at most 2 MB") } } });
    }
    return new Promise(function (resolve) {
      var reader = new FileReader();
      reader.onload = function () { resolve(reader.result); };
      reader.onerror = function () { resolve(null); };
      reader.readAsDataURL(file);
    }).then(function (image) {
      if (!image) return { ok: false, status: 0, data: { error: { field: "photo", message: OW.t("照片：无法读取文件", "photo: cannot read the file") } } };
      return ADM.api("PUT", "/admin/users/" + encodeURIComponent(username) + "/photo", { image: image }).then(function (res) {
        if (res.data && res.data.error && res.data.error.field === "image") res.data.error.field = "photo";
        return res;
      });
    });
  }
  $("#user-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var form = ev.target, key = S.editing[form.id], v = values(form);
    var done = function (res) {
      if (ADM.showResult(form, res, "")) {
        newMode(form, "新增人员", "Add a staff account");
        $("#user-photo").hidden = true;
        ADM.message(form.querySelector(".form-msg"), true, OW.t("已保存 ", "Saved ") + (key || v.username));
        loadUsers();
      }
    };
    var withPhoto = function (username) {
      return function (res) {
        if (!res.ok) { done(res); return; }
        uploadPhoto(username).then(function (up) { done(up.ok ? res : up); });
      };
    };
    if (!key) {
      v.hall = v.hall || null;
      ADM.api("POST", "/admin/users", v).then(withPhoto(v.username));
      return;
    }
    var change = { display_name: v.display_name, staff_number: v.staff_number, role: v.role, hall: v.hall || null };
    ADM.api("PATCH", "/admin/users/" + encodeURIComponent(key), change).then(function (res) {
      if (!res.ok || !v.password) { withPhoto(key)(res); return; }
      ADM.api("POST", "/admin/users/" + encodeURIComponent(key) + "/password", { password: v.password }).then(withPhoto(key));
    });
  });

  /* --- devices ---------------------------------------------------------------------------- */
  /* A board speaks unattended: Chromium full screen, sound allowed without a tap (README: "Hall board"). */
  var BOARD_FLAGS = "--kiosk --autoplay-policy=no-user-gesture-required --noerrdialogs --disable-infobars " +
                    "--disable-session-crashed-bubble --no-first-run";
  function boardCommand(token) {
    return "chromium " + BOARD_FLAGS + ' "' + location.origin + "/device?device=" + (token || OW.t("<设备令牌>", "<device token>")) + '"';
  }
  function loadDevices() {
    ADM.api("GET", hallPath() + "/devices").then(function (res) {
      if (!res.ok) { answer(false, errorText(res)); return; }
      OW.fill($("#device-table tbody"), res.data.devices.map(function (d) {
        return h("tr", { "data-device": d.name, class: d.active ? "" : "inactive" },
          h("td", { class: "strong", text: d.name }), h("td", { text: word(DEVICE, d.kind) }),
          h("td", { text: d.window ? OW.t(d.window + " 号窗口", "window " + d.window)
            : d.agent ? OW.t("自带打印机（本机程序）", "own printer (agent)") + " · " + word(PRINTER, d.printer_status.state)
            : (d.printer || "—") }),
          h("td", { class: d.online ? "online" : "offline", text: !d.active ? OW.t("已吊销", "revoked") : d.online ? OW.t("在线", "online") : OW.t("离线", "offline") }),
          h("td", { text: ADM.time(d.last_seen_at) }),
          h("td", {}, d.active ? confirmButton("吊销", "Revoke", function () { remove("/devices/" + encodeURIComponent(d.name), loadDevices); }) : null));
      }));
      $("#board-launch").hidden = !res.data.devices.some(function (d) { return d.kind === "board" && d.active; });
      $("#board-launch .launch-command").textContent = boardCommand(null);
      OW.fill($("#printer-table tbody"), res.data.printers.map(function (p) {
        return h("tr", { "data-printer": p.name || p.printer }, h("td", { class: "strong", text: p.name || p.printer }),
          h("td", { class: p.state === "online" ? "online" : "offline", text: word(PRINTER, p.state) }), h("td", { text: p.detail || "" }));
      }));
    });
  }
  /* The agent of a kiosk that prints on its own printer: the token is shown once, so the command comes with it. */
  function agentCommand(token) {
    return "queue-server agent --server " + location.origin + " --token " + token + " --printer " + OW.t("<打印机地址>", "<printer address>");
  }
  $("#device-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var form = ev.target, v = values(form);
    v.printer = v.printer || null;
    v.agent = v.agent === "1";
    ADM.api("POST", hallPath() + "/devices", v).then(function (res) {
      if (ADM.showResult(form, res, OW.t("已登记 ", "Registered ") + v.name)) {
        var t = $("#device-token");
        t.hidden = false;
        OW.fill(t, [OW.t("设备令牌（只显示这一次，请在设备上打开）：", "Device token (shown once; open it on the device): ") + location.origin + "/device?device=" + res.data.token,
          v.kind === "board" ? h("p", { text: OW.t("大厅屏电脑上这样启动（自动播放声音）：", "Start it on the board's PC like this (sound plays by itself):") }) : null,
          v.kind === "board" ? h("code", { class: "launch-command", text: boardCommand(res.data.token) }) : null,
          v.agent ? h("p", { text: OW.t("在取号机电脑上这样启动本机程序（打印机地址如 usb:04b8:0202、win32:打印机名称、network:192.168.1.50）：",
                                        "Start its agent on the kiosk's PC like this (printer address e.g. usb:04b8:0202, win32:PRINTER NAME, network:192.168.1.50):") }) : null,
          v.agent ? h("code", { class: "launch-command agent-command", text: agentCommand(res.data.token) }) : null]);
        form.reset();
        loadDevices();
      }
    });
  });

  /* --- change log ------------------------------------------------------------------------- */
  function loadChanges() {
    var q = new URLSearchParams({ hall: S.hall, entity: $("#change-entity").value, limit: "200" });
    ADM.api("GET", "/admin/changes?" + q.toString()).then(function (res) {
      if (!res.ok) { answer(false, errorText(res)); return; }
      $("#change-total").textContent = OW.t("共 " + res.data.total + " 条", res.data.total + " changes");
      OW.fill($("#change-table tbody"), res.data.changes.map(function (c) {
        return h("tr", { "data-entity": c.entity, "data-key": c.key },
          h("td", { text: ADM.time(c.at) }), h("td", { text: c.user }), h("td", { text: c.hall || "—" }),
          h("td", { text: c.entity + " " + c.key }), h("td", { text: word(ACTION, c.action) }), h("td", { class: "diff", text: describe(c.changes || {}) }));
      }));
    });
  }
  $("#change-entity").addEventListener("change", loadChanges);

  var LOAD = { settings: loadSettings, queues: loadQueuesAndRender, services: loadServices, windows: loadWindows,
               users: loadUsers, devices: loadDevices, changes: loadChanges };
  document.querySelectorAll("[data-cancel]").forEach(function (b) {
    b.addEventListener("click", function () {
      var form = b.closest("form");
      var titles = { "queue-form": ["新增队列", "Add a queue"], "service-form": ["新增事项", "Add a service item"],
                     "window-form": ["新增窗口", "Add a window"], "user-form": ["新增人员", "Add a staff account"] }[form.id];
      newMode(form, titles[0], titles[1]);
    });
  });
  OW.onLang(function () { if (S.halls.length) renderHallSelect(); });
  ADM.start(start);
})();
