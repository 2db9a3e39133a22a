// Leaflet map of ServicePoints. No tile layer is loaded (no third-party requests): district
// points give orientation, markers link to their pages, and admins can click to place a location.
(function () {
  var el = document.getElementById("map");
  var dataEl = document.getElementById("map-data");
  if (!el || !dataEl || !window.L || !window.leafletText) return;
  var data = JSON.parse(dataEl.textContent);
  var map = leafletMap(el, data.center, data.zoom);
  var bounds = [];
  data.references.forEach(function (r) {
    L.circleMarker([r.lat, r.lon], { radius: 4, color: "#6b7280", weight: 1, fillOpacity: 0.6 })
      .addTo(map)
      .bindTooltip(leafletText(r.name), { permanent: true, direction: "right", className: "district-label" });
    bounds.push([r.lat, r.lon]);
  });
  var markers = {};
  data.markers.forEach(function (m) {
    // A mobile ServicePoint's stop is drawn hollow and dashed: there only on its visit days.
    var style = m.kind === "mobile"
      ? { radius: 9, color: "#0b4f9c", weight: 3, dashArray: "4 3", fillColor: "#ffffff", fillOpacity: 0.9 }
      : { radius: 9, color: "#b3001b", weight: 3, fillOpacity: 0.85 };
    var marker = L.circleMarker([m.lat, m.lon], style)
      .addTo(map)
      .bindPopup(leafletLink(m.url, m.name));
    markers[m.id] = marker;
    bounds.push([m.lat, m.lon]);
  });
  if (data.markers.length === 1 && !data.editable) map.setView([data.markers[0].lat, data.markers[0].lon], 14);
  else if (bounds.length > 1) map.fitBounds(bounds, { padding: [30, 30] });
  if (!data.editable) return;
  var lat = document.getElementById("f-lat"), lon = document.getElementById("f-lon");
  var pin = null;
  map.on("click", function (e) {
    var la = e.latlng.lat.toFixed(5), lo = e.latlng.lng.toFixed(5);
    if (lat) lat.value = la;
    if (lon) lon.value = lo;
    if (pin) pin.setLatLng(e.latlng);
    else pin = L.circleMarker(e.latlng, { radius: 9, color: "#0b4f9c", weight: 3 }).addTo(map);
  });
})();
