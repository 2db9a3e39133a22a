// Live regions: an element with data-live (an SSE URL) and data-refresh (a fragment URL) is
// re-fetched whenever the server says the location changed; every 30 s as a fallback.
(function () {
  document.querySelectorAll("[data-live][data-refresh]").forEach(function (el) {
    var busy = false;
    function refresh() {
      if (busy) return;
      busy = true;
      fetch(el.getAttribute("data-refresh"), { headers: { "HX-Request": "true" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) el.innerHTML = html; })
        .finally(function () { busy = false; });
    }
    if (window.EventSource) {
      var source = new EventSource(el.getAttribute("data-live"));
      source.addEventListener("changed", refresh);
      // A change made while (re)connecting would otherwise wait for the 30 s fallback.
      source.addEventListener("open", refresh);

    }
    setInterval(refresh, 30000);
  });
  var print = document.querySelector("[data-print]");
  if (print) print.addEventListener("click", function () { window.print(); });
})();
