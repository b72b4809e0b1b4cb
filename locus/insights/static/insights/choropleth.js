/* The dashboard's choropleth: the place's areas (GeoJSON from the page, json_script), shaded
 * by the class the server computed (insights/selectors.py). A progressive enhancement: the
 * table beside it holds every figure, and without JavaScript only the table shows.
 *
 * The map adds nothing the table does not already say, and shapes cannot be told apart
 * without a pointer, so it is aria-hidden and holds nothing focusable (no keyboard handler,
 * no zoom links). No tiles unless the operator configured a tile server (LOCUS_MAP_TILES):
 * nothing is loaded from another host by default.
 */
(function () {
  "use strict";

  // Leaflet puts a string tooltip in with innerHTML: an area's name comes from an imported
  // boundary file, so it goes in as text (an element), never as markup.
  function asText(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  function start() {
    var block = document.getElementById("insights-map");
    var source = document.getElementById("insights-map-data");
    if (!block || !source || !window.L) return;
    var collection;
    try {
      collection = JSON.parse(source.textContent);
    } catch (error) {
      return;
    }
    if (!collection.features || !collection.features.length) return;
    block.hidden = false;
    var map = window.L.map(block, {
      attributionControl: false,
      zoomControl: false,
      keyboard: false,
      scrollWheelZoom: false,
      boxZoom: false,
      zoomSnap: 0.1,
    });
    if (block.dataset.tiles) {
      window.L.tileLayer(block.dataset.tiles, { attribution: block.dataset.attribution || "" }).addTo(map);
      if (block.dataset.attribution) {
        window.L.control.attribution({ prefix: false }).addTo(map);
      }
    }
    var selected = block.dataset.selected;
    var layer = window.L.geoJSON(collection, {
      style: function (feature) {
        var classes = "area class-" + (feature.properties["class"] || 0);
        if (selected && String(feature.id) === selected) classes += " is-selected";
        return { className: classes, weight: 1, fillOpacity: 1 };
      },
      onEachFeature: function (feature, shape) {
        var p = feature.properties;
        var text = p.name + ": " + p.incidents + (p.rate !== null ? " (" + p.rate.toFixed(2) + " / 1,000)" : "");
        shape.bindTooltip(asText(text), { sticky: true });
      },
    }).addTo(map);
    map.fitBounds(layer.getBounds(), { padding: [8, 8] });
    // WCAG 1.4.13: Escape hides the tooltip shown on hover without moving the pointer.
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") map.eachLayer(function (shape) { if (shape.closeTooltip) shape.closeTooltip(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
