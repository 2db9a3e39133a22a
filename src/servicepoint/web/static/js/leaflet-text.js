// Text for Leaflet tooltips and popups. Leaflet puts a string in as HTML (innerHTML), so a
// name from the data (a stop, a site, a grid label, a district) would become markup. Pages
// hand Leaflet a node whose text is set with textContent instead; load this before the maps.
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
})();
