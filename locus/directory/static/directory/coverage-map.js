/* The coverage choropleth: the place's areas shaded by the number of providers of one type of
 * service. The table beside it holds the same figures and is the accessible version, so the map
 * is aria-hidden and has nothing focusable (as the report form's area map). No tile layer:
 * only the place's areas from our own API. Without JavaScript the table is all there is. */
(function () {
  "use strict";

  // Leaflet puts a string tooltip in with innerHTML: an area's name comes from an imported
  // boundary file, so it goes in as text (an element), never as markup.
  function asText(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  /* The same classes as the legend the server writes (views.coverage_legend): 0 is a gap,
   * then thirds of the largest count. */
  function bucket(count, max) {
    if (!count || !max) return 0;
    return Math.min(3, Math.max(1, Math.ceil((3 * count) / max)));
  }

  function start() {
    var block = document.getElementById("coverage-map");
    if (!block || !window.L || !window.fetch) return;
    var counts = {};
    var max = parseInt(block.dataset.max || "0", 10);
    try {
      counts = JSON.parse(block.dataset.counts || "{}");
    } catch (e) {
      return;
    }
    fetch(block.dataset.areasUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("areas: HTTP " + response.status);
        return response.json();
      })
      .then(function (collection) {
        var features = (collection.features || []).filter(function (f) { return f.geometry; });
        if (!features.length) return;
        block.hidden = false;
        var map = window.L.map(block, {
          attributionControl: false,
          zoomControl: false,
          keyboard: false,
          scrollWheelZoom: false,
          boxZoom: false,
          zoomSnap: 0.1,
        });
        var shapes = window.L.geoJSON(
          { type: "FeatureCollection", features: features },
          {
            style: function (feature) {
              return { className: "cov-" + bucket(counts[String(feature.id)] || 0, max) };
            },
            onEachFeature: function (feature, layer) {
              var name = String((feature.properties || {}).name || "");
              layer.bindTooltip(asText(name + ": " + (counts[String(feature.id)] || 0)), {
                sticky: true,
              });
            },
          }
        ).addTo(map);
        map.fitBounds(shapes.getBounds(), { padding: [8, 8] });
        // WCAG 1.4.13: Escape hides the tooltip shown on hover without moving the pointer.
        document.addEventListener("keydown", function (event) {
          if (event.key === "Escape") map.eachLayer(function (shape) { if (shape.closeTooltip) shape.closeTooltip(); });
        });
      })
      .catch(function () { /* the table stays */ });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
