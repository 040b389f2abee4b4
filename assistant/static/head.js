// Runs in <head> before the app renders: the whole page is right-to-left Arabic.
(function () {
  var root = document.documentElement;
  root.setAttribute("dir", "rtl");
  root.setAttribute("lang", "ar");
})();
