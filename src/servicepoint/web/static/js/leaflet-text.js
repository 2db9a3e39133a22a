// Shared by every Leaflet map; load it before the maps.
// Text for tooltips and popups: Leaflet puts a string in as HTML (innerHTML), so a name from
// the data (a stop, a site, a grid label, a district) would become markup. Pages hand Leaflet a
// node whose text is set with textContent instead.
(function () {
  window.leafletText = function (text) {
    var span = document.createElement("span");
    span.textContent = text === null || text === undefined ? "" : String(text);
    return span;
  };
  window.leafletLink = function (href, text) {
    var link = document.createElement("a");
    link.href = href;
    link.textContent = text === null || text === undefined ? "" : String(text);
    return link;
  };
  // A map without tiles (no third-party requests) whose zoom buttons speak the page's language
  // (Leaflet's defaults are English): the element carries data-zoom-in / data-zoom-out.
  window.leafletMap = function (el, center, zoom) {
    var map = L.map(el, { zoomControl: false, attributionControl: false, keyboard: true })
      .setView(center, zoom);
    L.control.zoom({ zoomInTitle: el.getAttribute("data-zoom-in") || "Zoom in",
                     zoomOutTitle: el.getAttribute("data-zoom-out") || "Zoom out" }).addTo(map);
    return map;
  };
})();
