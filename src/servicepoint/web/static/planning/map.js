// Planning maps (Leaflet, no tiles: no third-party requests). Each .planning-map names the
// <script type="application/json"> with its data: demand points or areas shaded by distance
// (approximate ones dashed and smaller), sites as squares (candidates as diamonds, closed ones
// grey). On the data page a click fills the coordinates of the form last worked in; keyboard
// focus stays where it is and a live region says what was filled in.
(function () {
  if (!window.L || !window.leafletText) return;
  var lastForm = null;
  document.querySelectorAll("form.map-form").forEach(function (form) {
    form.addEventListener("focusin", function () { lastForm = form; });
  });

  function siteIcon(site) {
    var cls = "site-icon " + (site.open ? "site-open" : "site-closed");
    if (site.kind === "candidate") cls += " site-candidate";
    if (site.approx) cls += " site-approx";
    return L.divIcon({ className: cls, iconSize: [16, 16] });
  }

  function pointStyle(p) {
    return {
      color: p.approx ? "#111827" : "#374151",
      weight: p.approx ? 2 : 1,
      dashArray: p.approx ? "4 3" : null,
      fillColor: p.colour,
      fillOpacity: p.approx ? 0.45 : 0.8
    };
  }

  function fill(data, el, e) {
    var form = lastForm || document.querySelector("form.map-form");
    if (!form) return;
    var la = e.latlng.lat.toFixed(5), lo = e.latlng.lng.toFixed(5);
    var lat = form.querySelector(".map-lat"), lon = form.querySelector(".map-lon");
    if (lat) lat.value = la;
    if (lon) lon.value = lo;
    var said = document.getElementById("map-picked");
    if (said) {
      said.textContent = (said.getAttribute("data-text") || "") + ": " + la + ", " + lo +
        " (" + (form.getAttribute("data-form-name") || "") + ")";
    }
  }

  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-map"));
    if (!source || el.getAttribute("data-drawn")) return;
    el.setAttribute("data-drawn", "1");
    var data = JSON.parse(source.textContent);
    var map = leafletMap(el, data.center, 11);
    var bounds = [];
    data.points.forEach(function (p) {
      var style = pointStyle(p), layer;
      if (p.geometry) layer = L.geoJSON(p.geometry, { style: function () { return style; } });
      else layer = L.circleMarker([p.lat, p.lon], L.extend({ radius: p.approx ? 6 : 9 }, style));
      layer.bindTooltip(leafletText(p.text)).addTo(map);
      bounds.push([p.lat, p.lon]);
    });
    data.sites.forEach(function (s) {
      L.marker([s.lat, s.lon], { icon: siteIcon(s), keyboard: false, title: s.name })
        .bindTooltip(leafletText(s.name)).addTo(map);
      bounds.push([s.lat, s.lon]);
    });
    if (bounds.length > 1) map.fitBounds(bounds, { padding: [20, 20] });
    if (data.editable) map.on("click", function (e) { fill(data, el, e); });
  }

  function drawAll(root) {
    (root || document).querySelectorAll(".planning-map[data-map]").forEach(draw);
  }
  drawAll(document);
  // A result that arrives later (HTMX swap) gets its map too.
  document.body.addEventListener("htmx:afterSettle", function (e) { drawAll(e.target); });
})();
