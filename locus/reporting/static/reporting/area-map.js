/* "Or pick your area on the map": a progressive enhancement of the Where step.
 *
 * The Area list (a <select>) stays the one real control: it is what the form sends, and what
 * keyboard and screen-reader users use. The map only mirrors it: clicking an area selects it in
 * the list (and fires "change"), and choosing in the list highlights the area on the map.
 *
 * Accessibility decision: the map adds nothing that the list does not already offer, and shapes
 * cannot be reached or told apart without a pointer, so the whole block (the visible hint and
 * the map) is aria-hidden in the template, and Leaflet is set up without anything focusable in
 * it (no keyboard handler, which would give the container a tabindex; no zoom or attribution
 * links; each shape tabindex -1, as Chromium makes a shape that Leaflet's tooltip listens to
 * for focus a Tab stop). Screen readers and the keyboard go straight to the list.
 *
 * No tile layer: nothing is loaded from another host, only the place's areas as GeoJSON from
 * our own API. If Leaflet or the areas cannot be loaded, the block simply stays hidden.
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
    var block = document.getElementById("area-map");
    if (!block || !window.L || !window.fetch) return;
    var select = document.getElementById(block.dataset.select);
    if (!select) return;

    fetch(block.dataset.areasUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("areas: HTTP " + response.status);
        return response.json();
      })
      .then(function (collection) {
        draw(block, select, collection);
      })
      .catch(function () {
        /* The list still works: leave the map hidden. */
      });
  }

  function draw(block, select, collection) {
    var offered = {};
    Array.prototype.forEach.call(select.options, function (option) {
      if (option.value) offered[option.value] = true;
    });
    var features = (collection.features || []).filter(function (feature) {
      return feature.geometry && offered[String(feature.id)];
    });
    if (!features.length) return;

    var canvas = document.createElement("div");
    canvas.className = "area-map-canvas";
    block.appendChild(canvas);
    block.hidden = false; // before the map is made, so that Leaflet can measure the canvas

    var map = window.L.map(canvas, {
      attributionControl: false,
      zoomControl: false,
      keyboard: false,
      scrollWheelZoom: false,
      boxZoom: false,
      zoomSnap: 0.1, // fit the areas snugly, whatever their size
    });
    var layers = {};
    var shapes = window.L.geoJSON(
      { type: "FeatureCollection", features: features },
      {
        style: function () {
          return { className: "area-shape" };
        },
        onEachFeature: function (feature, layer) {
          var id = String(feature.id);
          layers[id] = layer;
          layer.bindTooltip(asText(String((feature.properties || {}).name || "")), { sticky: true });
          layer.on("click", function () {
            if (select.value === id) return;
            select.value = id;
            select.dispatchEvent(new Event("change", { bubbles: true }));
          });
        },
      }
    ).addTo(map);
    map.fitBounds(shapes.getBounds(), { padding: [8, 8] });
    // WCAG 1.4.13: Escape hides the tooltip shown on hover without moving the pointer.
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") map.eachLayer(function (shape) { if (shape.closeTooltip) shape.closeTooltip(); });
    });
    Object.keys(layers).forEach(function (id) {
      var element = layers[id].getElement();
      if (!element) return;
      element.setAttribute("data-area", id); // the shape's area, for tests and CSS
      // Leaflet listens for focus on a shape with a tooltip, and Chromium makes an SVG shape
      // with a focus listener a Tab stop: without this, the keyboard stopped on every area of
      // a block that is hidden from screen readers, on its way to the Area list.
      element.setAttribute("tabindex", "-1");
    });

    function highlight() {
      Object.keys(layers).forEach(function (id) {
        var layer = layers[id];
        var element = layer.getElement && layer.getElement();
        if (!element) return;
        var selected = id === select.value;
        element.classList.toggle("is-selected", selected);
        if (selected) layer.bringToFront();
      });
    }
    select.addEventListener("change", highlight);
    highlight(); // an area already chosen (going back, or a form error) shows at once
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
