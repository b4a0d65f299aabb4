/* Style functions of the dashboard's map layers (dash-leaflet calls them by name: {"variable": "mru.post"}), the
   vector-tile layers of sites and licences (mru.tiles), and the clientside callbacks (window.dash_clientside.mru). */

window.mru = Object.assign({}, window.mru, {
    /* A site or a cell of sites of a vector tile (Leaflet.VectorGrid calls it with the feature's attributes and the
       tile's zoom), or nothing ([]) where the filter bar's filters leave it out (`mru.tiles.shown`): a cell is a
       circle sized by the sites the filters pass in it (`mru.tiles.cell`); a site a small circle below
       `polygonZoom` (geojson.POLYGON_ZOOM), its footprint from it; all coloured by class. */
    siteStyle: function (props, zoom) {
        var tiles = window.mru.tiles;
        if (props.kind === "cell") {
            var cell = tiles.cell(props);
            if (!cell.count) {
                return [];
            }
            return {radius: Math.min(22, 5 + 2.2 * Math.sqrt(cell.count)), color: "#333333", weight: 1,
                    fill: true, fillColor: cell.colour, fillOpacity: 0.55};
        }
        if (!tiles.shown(props)) {
            return [];
        }
        if (zoom >= tiles.polygonZoom) {
            return {color: props.colour, weight: 2, fill: true, fillColor: props.colour, fillOpacity: 0.45};
        }
        return {radius: 5, color: props.colour, weight: 1.5, fill: true, fillColor: props.colour, fillOpacity: 0.8};
    },
    /* A licence, coloured by status; nothing outside the countries the filter bar chose. */
    licenceStyle: function (props) {
        var countries = window.mru.tiles.filters.countries;
        if (countries.length && countries.indexOf(props.country) < 0) {
            return [];
        }
        return {color: props.colour, weight: 1, fill: true, fillColor: props.colour, fillOpacity: 0.12,
                dashArray: "3 3"};
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
    /* A town or village: a small dot in the basemap's pane with its name to its right, written from the zoom its
       size allows (placeShown). One marker with a plain HTML label (map.css .place-label), not a circle with a
       permanent Leaflet tooltip: a tooltip measures itself when placed, one page layout per place, and the
       thousands of villages from VILLAGE_ZOOM on froze the page for seconds. */
    place: function (feature, latlng) {
        var label = document.createElement("span");
        label.textContent = feature.properties.name;
        return L.marker(latlng, {pane: "basemap", interactive: false, keyboard: false,
                                 icon: L.divIcon({className: "place-label", html: label, iconSize: null,
                                                  iconAnchor: [3, 7]})});
    },
    placeShown: function (feature, context) {
        var hideout = (context && context.hideout) || {};
        return feature.properties.minzoom <= (hideout.zoom || 0);
    }
});

/* The vector-tile layers of the maps (maplayers.vector_layer): each is a dash-leaflet LayerGroup whose "add" event
   (`mru.tiles.add`) puts a Leaflet.VectorGrid in it, so the layers control still switches it on and off; the
   browser then fetches the tiles in view itself, from the address the map's tile store gives (`mru.tiles.show`).
   A tile holds every site of its period the user may see (site_tiles): the map applies the filter bar's other
   filters itself, from the features' attributes, so a filter change draws the tiles it holds again (kept decoded,
   `kept`) and fetches none; a new period is a new address. The grids are kept by LayerGroup id. Features are SVG
   paths (so a test can find and click them) in the group's pane; a site's click is the group's clickData (a Dash
   callback opens its dossier, or zooms onto a cell); the tooltip of the feature under the pointer follows it. */
window.mru.tiles = {
    grids: {},  // LayerGroup id -> {map, group, pane, setProps, url, minZoom, grid}
    polygonZoom: Infinity,  // from the tile store: the zoom footprints are drawn from
    tileSize: 256,  // from the tile store too: the tiles' size in pixels, and how many zooms below the map's
    zoomOffset: 0,  // they are (until it says, Leaflet's defaults)
    // from the tile store: the filter bar's filters the features must pass, and how to describe a cell (`cell`)
    filters: {countries: [], commodity: null, classes: [], border: false},
    cellWords: null,
    version: 0,  // counts the filters given, so that a cell's figures are counted once per filters
    kept: new Map(),  // tile address -> the promise of the decoded tile, the most recent last
    keep: 128,  // tiles kept decoded: those of the last dozen views (up to 2,000 features each), drawn again
                // on a filter change
    plugin: null,  // the promise of Leaflet.VectorGrid, loaded once
    // where the assets are served (this file's own address, less its name), the plugin among them
    assets: document.currentScript ? document.currentScript.src.replace(/map\.js(\?.*)?$/, "") : "/assets/",
    Grid: null,  // its protobuf grid, as the map uses it (`load`)

    /* Leaflet.VectorGrid, loaded on first use (app.py keeps it out of Dash's automatic loading): it extends
       window.L, which dash-leaflet's bundle sets, and only maps need it. Its points are circles without a
       position of their own (they know only their tile pixel), but Leaflet 1.9 asks a small circle for one
       (getLatLng) to place a mouse event on it: they leave the event at the pointer instead. */
    load: function () {
        var tiles = this;
        if (!tiles.plugin) {
            tiles.plugin = new Promise(function (resolve, reject) {
                var script = document.createElement("script");
                script.src = tiles.assets + "leaflet.vectorgrid-1.3.0.min.js";
                script.onload = resolve;
                script.onerror = reject;
                document.head.appendChild(script);
            }).then(function () {
                tiles.Grid = L.VectorGrid.Protobuf.extend({
                    /* Leaflet.VectorGrid 1.3 puts the map's zoom in a tile's address whatever the tiles' size:
                       a tile of `tileSize` 512 at map zoom z is tile z - `zoomOffset` of the server. */
                    _getVectorTilePromise: function (coords, tileBounds) {
                        var asked = L.point(coords.x, coords.y);
                        asked.z = coords.z - this.options.zoomOffset;
                        var key = this._url + " " + asked.z + "/" + asked.x + "/" + asked.y;
                        var kept = tiles.kept, promise = kept.get(key);
                        if (promise) {  // the most recent last: taken out and put back
                            kept.delete(key);
                        } else {
                            promise = L.VectorGrid.Protobuf.prototype._getVectorTilePromise.call(this, asked,
                                                                                                  tileBounds);
                            promise.catch(function () {  // a failed fetch is tried again next time
                                kept.delete(key);
                            });
                        }
                        kept.set(key, promise);
                        if (kept.size > tiles.keep) {
                            kept.delete(kept.keys().next().value);
                        }
                        return promise;
                    },
                    _createLayer: function (feature) {
                        var layer = L.VectorGrid.Protobuf.prototype._createLayer.apply(this, arguments);
                        if (feature.type === 1) {
                            layer.getLatLng = null;
                        }
                        return layer;
                    }
                });
            });
        }
        return tiles.plugin;
    },
    /* The LayerGroup `context.id` was added to its map: give it its grid, drawn from the address its tile store
       gives (`show`, before or after this). A grid lives as long as its map: when Dash draws the page again, the
       new map's group waits for its own store's address, never fetching the last page's. */
    add: function (event, context) {
        var tiles = window.mru.tiles;
        var entry = tiles.grids[context.id] = tiles.grids[context.id] || {};
        if (entry.group !== event.target) {
            Object.assign(entry, {map: context.map, group: event.target, setProps: context.setProps,
                                  pane: context.pane, grid: null});
            context.map.once("unload", function () {
                if (tiles.grids[context.id] === entry) {
                    delete tiles.grids[context.id];
                }
            });
        }
        tiles.draw(entry);
    },
    /* The tile store's `data` changed ({polygonZoom, tileSize, zoomOffset, filters, cell, layers: {LayerGroup id:
       {url: URL template, minZoom}}}): each grid fetches from its new address, or, at the same address, draws the
       tiles it holds again when the filters changed. */
    show: function (data) {
        var tiles = window.mru.tiles;
        if (!data) {
            return;
        }
        tiles.polygonZoom = data.polygonZoom;
        tiles.tileSize = data.tileSize;
        tiles.zoomOffset = data.zoomOffset;
        tiles.cellWords = data.cell;
        var filtered = JSON.stringify(data.filters) !== JSON.stringify(tiles.filters);
        if (filtered) {
            tiles.filters = data.filters;
            tiles.version += 1;
        }
        Object.keys(data.layers).forEach(function (id) {
            var entry = tiles.grids[id] = tiles.grids[id] || {};
            var layer = data.layers[id];
            entry.minZoom = layer.minZoom;
            if (entry.url === layer.url) {
                if (filtered && entry.grid) {
                    entry.grid.redraw();
                }
                return;
            }
            entry.url = layer.url;
            if (entry.grid) {
                entry.grid.setUrl(entry.url);
            } else {
                tiles.draw(entry);
            }
        });
    },
    /* Whether a site (its tile attributes) passes the filter bar's filters: its country, commodity, class and
       border zone (Filters in dashboard/filters.py; an empty choice passes all). */
    shown: function (props) {
        var f = this.filters;
        return (!f.countries.length || f.countries.indexOf(props.country) >= 0)
            && (!f.commodity || props.commodity === f.commodity)
            && (!f.classes.length || f.classes.indexOf(props.registration) >= 0)
            && (!f.border || props.border === true);
    },
    /* A cell's figures for the filters: of its `groups` (site_tiles: [country, commodity, class, border, sites,
       hectares] per value of the filter attributes) those the filters pass, counted once per filters: sites,
       unregistered share, hectares, and its colour as the server gives it (site_level.site_cells: of its
       unregistered sites, else of those outside any cadastre held, when they are half or more of it). */
    cell: function (props) {
        var tiles = this;
        if (props._version === tiles.version) {
            return props._cell;
        }
        var words = tiles.cellWords, count = 0, unregistered = 0, notAssessed = 0, area = 0;
        JSON.parse(props.groups).forEach(function (g) {
            if (tiles.shown({country: g[0], commodity: g[1], registration: g[2], border: g[3]})) {
                count += g[4];
                area += g[5];
                unregistered += words.unregistered.indexOf(g[2]) >= 0 ? g[4] : 0;
                notAssessed += g[2] === "not_assessed" ? g[4] : 0;
            }
        });
        var colour = unregistered / count >= 0.5 ? words.colours.no_licence
            : (notAssessed / count >= 0.5 ? words.colours.not_assessed : words.colours.registered);
        props._cell = {count: count, share: unregistered / count, area: area, colour: colour};
        props._version = tiles.version;
        return props._cell;
    },
    /* The tooltip of a feature: a site's from its tile; a cell's written here for the sites the filters pass, in
       the user's language (the words and number format of the tile store's `cell`). */
    tooltip: function (props) {
        if (props.kind !== "cell") {
            return props.tooltip;
        }
        // rounded half to even, as the server's numbers (Babel)
        var cell = this.cell(props), language = this.cellWords.language;
        var whole = new Intl.NumberFormat(language, {maximumFractionDigits: 0, roundingMode: "halfEven"});
        var share = new Intl.NumberFormat(language, {style: "percent", maximumFractionDigits: 0,
                                                     roundingMode: "halfEven"});
        return this.cellWords.tooltip.replace("%(count)s", whole.format(cell.count))
            .replace("%(share)s", share.format(cell.share)).replace("%(area)s", whole.format(cell.area));
    },
    /* The grid of `entry` once its group and address are known and the plugin is loaded. */
    draw: function (entry) {
        if (!entry.group || !entry.url || entry.grid) {
            return;
        }
        window.mru.tiles.load().then(function () {
            if (entry.grid || !entry.group) {
                return;
            }
            entry.grid = window.mru.tiles.grid(entry);
            entry.group.addLayer(entry.grid);
        });
    },
    /* A Leaflet.VectorGrid of `entry.url`: the "sites" and "concessions" layers of its tiles styled as on the
       legend, each feature's tooltip under the pointer, a click given to Dash as the group's clickData. */
    grid: function (entry) {
        var grid = new window.mru.tiles.Grid(entry.url, {
            vectorTileLayerStyles: {sites: window.mru.siteStyle, concessions: window.mru.licenceStyle},
            rendererFactory: L.svg.tile, interactive: true, pane: entry.pane || "overlayPane",
            minZoom: entry.minZoom || 0, tileSize: window.mru.tiles.tileSize,
            zoomOffset: window.mru.tiles.zoomOffset
        });
        var tooltip = L.tooltip({direction: "top", offset: [0, -6]});
        grid.on("mouseover", function (e) {
            var text = window.mru.tiles.tooltip(e.layer.properties);
            if (text) {
                entry.map.openTooltip(tooltip.setContent(document.createTextNode(text)).setLatLng(e.latlng));
            }
        });
        grid.on("mouseout", function () {
            entry.map.closeTooltip(tooltip);
        });
        grid.on("click", function (e) {
            entry.setProps({clickData: {properties: e.layer.properties,
                                        geometry: {type: "Point", coordinates: [e.latlng.lng, e.latlng.lat]}}});
        });
        return grid;
    }
};

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
        /* The map's tile store to its vector-tile layers (`mru.tiles.show`); a callback with no output. */
        tileUrls: function (data) {
            window.mru.tiles.show(data);
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
