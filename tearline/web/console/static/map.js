// Map and timeline: Leaflet over an offline basemap (Natural Earth outlines from world-atlas,
// served by this node), the reader's sightings and places, routes between consecutive sightings
// of the same thing, and a time slider.
"use strict";
(async () => {
  const points = JSON.parse(document.getElementById("points").textContent);
  const map = L.map("map", {zoomControl: true, attributionControl: true}).setView([35, -100], 3);
  map.attributionControl.addAttribution("Natural Earth (world-atlas)");
  const NORTH_AMERICA = new Set(["840", "484", "124", "320", "084", "222", "340", "558", "188", "591", "192", "044", "332", "214", "388", "304"]);
  try {
    const atlas = await (await fetch("/static/vendor/world-atlas/countries-50m.json")).json();
    const countries = topojson.feature(atlas, atlas.objects.countries);
    countries.features = countries.features.filter((f) => NORTH_AMERICA.has(String(f.id)));
    L.geoJSON(countries, {style: {color: "#56606b", weight: 1, fillColor: "#e8e4d8", fillOpacity: 1}}).addTo(map);
  } catch (e) {
    document.getElementById("map").dataset.basemap = "missing";
  }
  const layer = L.layerGroup().addTo(map);
  const slider = document.getElementById("slider");
  const until = document.getElementById("until");
  const events = document.getElementById("events");
  const timed = points.filter((p) => p.at).sort((a, b) => a.at.localeCompare(b.at));
  const first = timed.length ? Date.parse(timed[0].at) : 0;
  const last = timed.length ? Date.parse(timed[timed.length - 1].at) : 0;
  const cutoff = () => first + (last - first) * (Number(slider.value) / 1000);

  const draw = () => {
    layer.clearLayers();
    events.replaceChildren();
    const limit = cutoff();
    until.textContent = timed.length ? new Date(limit).toISOString().slice(0, 16).replace("T", " ") + " UTC" : "";
    const shown = points.filter((p) => !p.at || Date.parse(p.at) <= limit);
    for (const p of shown) {
      const marker = p.type === "sighting"
        ? L.circleMarker([p.lat, p.lon], {radius: 7, color: "#b3261e", fillOpacity: 0.8})
        : L.circleMarker([p.lat, p.lon], {radius: 5, color: "#1f4e79", fillOpacity: 0.5});
      // A node, not a string: Leaflet puts a string in as HTML, and names are data, never markup.
      const tip = document.createElement("span");
      tip.textContent = `${p.mark} ${p.name}${p.at ? " · " + p.at.slice(0, 16) : ""}`;
      marker.bindTooltip(tip);
      marker.addTo(layer);
    }
    const routes = new Map();
    for (const p of timed) {
      if (p.type === "sighting" && p.of && Date.parse(p.at) <= limit) {
        routes.set(p.of, [...(routes.get(p.of) || []), [p.lat, p.lon]]);
      }
    }
    for (const line of routes.values()) {
      if (line.length > 1) L.polyline(line, {color: "#b3261e", weight: 3, dashArray: "6 4"}).addTo(layer);
    }
    for (const p of timed.filter((t) => Date.parse(t.at) <= limit)) {
      const li = document.createElement("li");
      li.textContent = `${p.at.slice(0, 16).replace("T", " ")} · ${p.mark} ${p.name}`;
      events.append(li);
    }
  };
  slider.addEventListener("input", draw);
  draw();
  const placed = points.map((p) => [p.lat, p.lon]);
  if (placed.length) map.fitBounds(placed, {padding: [40, 40], maxZoom: 6});
  document.getElementById("map").dataset.ready = "1";
})();
