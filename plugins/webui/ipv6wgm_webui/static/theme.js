// Runs before the page paints: apply the saved theme (auto follows prefers-color-scheme).
(function () {
  var saved = null;
  try { saved = localStorage.getItem("ipv6wgm-theme"); } catch (e) { /* private mode */ }
  if (saved === "light" || saved === "dark") { document.documentElement.setAttribute("data-theme", saved); }
})();
