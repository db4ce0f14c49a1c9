/* The staff pages' one session (the /login cookie): who is signed in, the CSRF token every write sends,
   and back to the sign-in form (returning here) once the session has ended, on this page or another. */
(function () {
  "use strict";
  var STAFF = (window.STAFF = JSON.parse(document.getElementById("who").dataset.staff));
  OW.csrf = STAFF.csrf;

  STAFF.signIn = function () {
    window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname + window.location.search));
  };

  /* OW.api with the session; a 401 means signed out (here or on another page): sign in again. */
  STAFF.api = function (method, path, body) {
    return OW.api(method, path, body).then(function (res) {
      if (res.status === 401) STAFF.signIn();
      return res;
    });
  };
})();
