// Theme toggle (auto -> light -> dark -> auto) and the CSRF header on every htmx request.
(function () {
  var ORDER = ["auto", "light", "dark"];
  function current() {
    return document.documentElement.getAttribute("data-theme") || "auto";
  }
  function apply(theme) {
    if (theme === "auto") { document.documentElement.removeAttribute("data-theme"); }
    else { document.documentElement.setAttribute("data-theme", theme); }
    try { localStorage.setItem("ipv6wgm-theme", theme); } catch (e) { /* private mode */ }
    var button = document.getElementById("theme-toggle");
    if (button) { button.setAttribute("data-theme-now", theme); button.title = "Theme: " + theme; }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("theme-toggle");
    if (button) {
      button.setAttribute("data-theme-now", current());
      button.addEventListener("click", function () {
        apply(ORDER[(ORDER.indexOf(current()) + 1) % ORDER.length]);
      });
    }
  });
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { event.detail.headers["X-CSRF-Token"] = meta.content; }
  });
})();
