/* The reasons of a poor rating (不满意, 非常不满意): the hall's list as toggle buttons, shared by the rating pages. */
(function () {
  "use strict";

  /* A picker in `container` for `hall`'s reasons; .selected() gives the ticked ones in the hall's order. */
  OW.reasonPicker = function (container, hall) {
    var reasons = [], chosen = {};
    function render() {
      OW.fill(container, reasons.map(function (r) {
        return OW.h("button", { type: "button", class: "reason" + (chosen[r] ? " is-on" : ""), "aria-pressed": chosen[r] ? "true" : "false",
                                "data-reason": r, text: r,
                                onclick: function () { chosen[r] = !chosen[r]; render(); } });
      }));
    }
    return {
      load: function () {
        return OW.api("GET", "/api/v1/halls/" + encodeURIComponent(hall) + "/rating-reasons").then(function (res) {
          if (res.ok) { reasons = res.data.reasons; render(); }
        });
      },
      selected: function () { return reasons.filter(function (r) { return chosen[r]; }); },
      reset: function () { chosen = {}; render(); }
    };
  };
  OW.POOR_SCORE = 2;  // 不满意 and below ask for the reasons
})();
