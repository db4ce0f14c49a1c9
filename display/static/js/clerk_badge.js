/* 亮身份: the clerk on duty at this window (photo, display name, staff number), on the window screen and the
   rating tablet. The page's own socket handler calls OW.clerkBadge.refresh() on its snapshot and whenever its window
   changes (window_updated: a clerk opens or closes it, or their name or photo changed), so it follows live. */
(function () {
  "use strict";
  var box = document.getElementById("clerk-on-duty");
  if (!box) return;
  var url = "/api/v1/halls/" + encodeURIComponent(box.dataset.hall) + "/windows/" + Number(box.dataset.window) + "/clerk";
  var img = box.querySelector(".clerk-photo");
  var clerk = null;

  function render() {
    box.hidden = !clerk;
    box.dataset.clerk = clerk ? clerk.name || clerk.staff_number || "" : "";
    if (!clerk) return;
    box.querySelector(".clerk-name").textContent = clerk.name || "";
    box.querySelector(".clerk-number").textContent = clerk.staff_number ? OW.t("工号 ", "Staff No. ") + clerk.staff_number : "";
    img.hidden = !clerk.photo;
    if (!clerk.photo) img.removeAttribute("src");
    else if (img.getAttribute("src") !== clerk.photo) img.src = clerk.photo;
  }

  function refresh() {
    OW.api("GET", url).then(function (res) {
      if (res.ok) { clerk = res.data.clerk; render(); }
    });
  }

  OW.clerkBadge = { refresh: refresh };
  OW.onLang(render);
  refresh();
})();
