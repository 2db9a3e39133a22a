// The mobile ServicePoint's map (Leaflet, no tiles: no third-party requests). Stops as circles
// (approximate ones dashed, inactive or unvisited ones grey), each day's route as a line in its
// weekday's colour, the depot as a square; district points in grey for orientation. Where the
// page has a form to fill, a click puts the point into its latitude and longitude fields, and a
// live region says so (keyboard focus stays where it is).
(function () {
  var el = document.getElementById("mobile-map");
  var source = document.getElementById("mobile-map-data");
  if (!el || !source || !window.L || !window.leafletText) return;
  var data = JSON.parse(source.textContent);
  var map = leafletMap(el, data.center, 11);
  var bounds = [];
  data.references.forEach(function (r) {
    L.circleMarker([r.lat, r.lon], { radius: 3, color: "#6b7280", weight: 1, fillOpacity: 0.5 })
      .bindTooltip(leafletText(r.name)).addTo(map);
  });
  data.routes.forEach(function (route) {
    L.polyline(route.points, { color: route.colour, weight: 3, opacity: 0.8 })
      .bindTooltip(leafletText(route.label)).addTo(map);
  });
  data.stops.forEach(function (s) {
    var marker = L.circleMarker([s.lat, s.lon], {
      radius: s.approx ? 7 : 9,
      color: s.active ? "#7f0013" : "#4b5563",
      weight: 2,
      dashArray: s.approx ? "4 3" : null,
      fillColor: s.active ? "#b3001b" : "#d1d5db",
      fillOpacity: 0.85
    }).addTo(map);
    marker.bindPopup(leafletLink(s.url, s.name)).bindTooltip(leafletText(s.name));
    bounds.push([s.lat, s.lon]);
  });
  if (data.depot && data.depot[0] !== null) {
    L.marker(data.depot, { icon: L.divIcon({ className: "site-icon", iconSize: [16, 16] }), keyboard: false })
      .addTo(map);
    bounds.push(data.depot);
  }
  if (bounds.length > 1) map.fitBounds(bounds, { padding: [30, 30] });
  else if (bounds.length === 1) map.setView(bounds[0], 14);
  if (!data.pick) return;
  var lat = document.getElementById(data.pick.lat), lon = document.getElementById(data.pick.lon);
  var pin = null;
  map.on("click", function (e) {
    var la = e.latlng.lat.toFixed(5), lo = e.latlng.lng.toFixed(5);
    if (lat) lat.value = la;
    if (lon) lon.value = lo;
    if (pin) pin.setLatLng(e.latlng);
    else pin = L.circleMarker(e.latlng, { radius: 9, color: "#0b4f9c", weight: 3 }).addTo(map);
    var said = document.getElementById("map-picked");
    if (said) said.textContent = (said.getAttribute("data-text") || "%(lat)s, %(lon)s")
      .replace("%(lat)s", la).replace("%(lon)s", lo);
  });
})();
