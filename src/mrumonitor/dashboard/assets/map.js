/* Style functions of the dashboard's map layers (dash-leaflet calls them by name: {"variable": "mru.site"}),
   and the clientside callback that names places by zoom (window.dash_clientside.mru.places). */
window.mru = Object.assign({}, window.mru, {
    /* A site (point) or a cell of sites: a circle coloured by class, a cell sized by its count; in the sites'
       pane (maplayers.SITES_Z), above the outlines and zone, which would otherwise take its clicks. */
    site: function (feature, latlng) {
        var p = feature.properties;
        var cell = p.kind === "cell";
        return L.circleMarker(latlng, {pane: "sites",
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
    /* A border corridor, coloured by its rank; the one the map was opened on (/map?corridor=) stands out. */
    corridorStyle: function (feature) {
        var p = feature.properties;
        return p.selected ? {color: p.colour, weight: 10, opacity: 0.95, dashArray: null}
                          : {color: p.colour, weight: 5, opacity: 0.75};
    },
    /* An official border post: a small dark square-ish circle. */
    post: function (feature, latlng) {
        return L.circleMarker(latlng, {radius: 5, color: "#000000", weight: 2, fillColor: "#ffffff", fillOpacity: 1});
    },
    /* The built-in basemap: the sea and lakes (the land is the map's background), and the rivers. */
    water: function (feature) {
        return {stroke: false, fillColor: "#a9cbe0", fillOpacity: 1};
    },
    river: function (feature) {
        return {color: "#6fa6cc", weight: 1.2, opacity: 0.9};
    },
    /* A town or village: a small dot in the basemap's pane with its name, written from the zoom its size allows
       (placeShown). */
    place: function (feature, latlng) {
        return L.circleMarker(latlng, {pane: "basemap", radius: 2.5, color: "#444444", weight: 1, fillColor: "#ffffff",
                                       fillOpacity: 1, interactive: false})
            .bindTooltip(feature.properties.name, {permanent: true, direction: "right", offset: [3, 0],
                                                   className: "place-label", interactive: false});
    },
    placeShown: function (feature, context) {
        var hideout = (context && context.hideout) || {};
        return feature.properties.minzoom <= (hideout.zoom || 0);
    }
});

window.dash_clientside = Object.assign({}, window.dash_clientside, {
    mru: Object.assign({}, (window.dash_clientside || {}).mru, {
        /* The map page's period slider (`positions`: none or one, its `marks` the periods) and the filter bar's
           `period` as one control: the one the user moved sets the other. */
        syncPeriod: function (period, positions, marks) {
            var no = window.dash_clientside.no_update;
            if (!positions.length) {
                return [no, []];
            }
            var periods = marks[0];
            var moved = window.dash_clientside.callback_context.triggered.some(function (t) {
                return t.prop_id.indexOf("period-slider") >= 0;
            });
            if (moved) {
                var chosen = periods[positions[0]];
                return [chosen && chosen !== period ? chosen : no, [positions[0]]];
            }
            var index = Object.keys(periods).filter(function (key) { return periods[key] === period; })[0];
            return [no, [index === undefined ? positions[0] : Number(index)]];
        },
        /* The map's zoom to the towns' and villages' layers; the villages' address once the zoom reaches theirs. */
        places: function (zoom, villages) {
            var no = window.dash_clientside.no_update;
            villages = villages || {};
            var url = zoom >= villages.from ? villages.url : no;
            return [{zoom: zoom}, Object.assign({}, villages, {zoom: zoom}), url];
        }
    })
});
