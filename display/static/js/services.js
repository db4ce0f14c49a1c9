/* Finding a service item, shared by the kiosk and the booking page: by code, pinyin initials or name. */
(function () {
  "use strict";

  /* The services matching what was typed, best first: exact code, initials, code, name start, name, initials inside. */
  OW.searchServices = function (services, q) {
    q = q.trim().toLowerCase();
    if (!q) return [];
    var scored = [];
    services.forEach(function (s) {
      var code = s.code.toLowerCase(), ini = (s.initials || "").toLowerCase(), name = s.name.toLowerCase();
      var rank = code === q ? 0 : ini.indexOf(q) === 0 ? 1 : code.indexOf(q) === 0 ? 2 : name.indexOf(q) === 0 ? 3
        : name.indexOf(q) >= 0 ? 4 : ini.indexOf(q) >= 0 ? 5 : -1;
      if (rank >= 0) scored.push([rank, s]);
    });
    scored.sort(function (a, b) { return a[0] - b[0] || (a[1].code < b[1].code ? -1 : 1); });
    return scored.map(function (x) { return x[1]; });
  };

  /* 即办件 (done on the spot) or 承诺件 (promised within days), in the page language. */
  OW.serviceKind = function (s) { return s.kind === "instant" ? OW.t("即办件", "Same-day") : OW.t("承诺件", "Promised"); };
})();
