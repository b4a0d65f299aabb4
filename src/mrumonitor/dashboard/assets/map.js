/* Style functions of the dashboard's map layers (dash-leaflet calls them by name: {"variable": "mru.site"}). */
window.mru = Object.assign({}, window.mru, {
    /* A site (point) or a cell of sites: a circle coloured by class, a cell sized by its count. */
    site: function (feature, latlng) {
        var p = feature.properties;
        var cell = p.kind === "cell";
        return L.circleMarker(latlng, {
            radius: cell ? Math.min(22, 5 + 2.2 * Math.sqrt(p.count)) : 5,
            color: cell ? "#333333" : p.colour, weight: cell ? 1 : 1.5,
            fillColor: p.colour, fillOpacity: cell ? 0.55 : 0.8
        });
    },
    /* A site footprint (polygon). */
    siteStyle: function (feature) {
        return {color: feature.properties.colour, weight: 2, fillOpacity: 0.45};
    },
    /* A licence, coloured by status. */
    licenceStyle: function (feature) {
        return {color: feature.properties.colour, weight: 1, fillOpacity: 0.12, dashArray: "3 3"};
    },
    /* An official border post: a small dark square-ish circle. */
    post: function (feature, latlng) {
        return L.circleMarker(latlng, {radius: 5, color: "#000000", weight: 2, fillColor: "#ffffff", fillOpacity: 1});
    }
});
