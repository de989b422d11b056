'use strict';
// Quiver's plotly.js bundle: the core (which holds the scatter trace) and the two other traces the
// app draws, bar and box. Built by build.cjs into public/vendor/plotly-quiver.min.js.
var Plotly = require('plotly.js/lib/core');
Plotly.register([require('plotly.js/lib/bar'), require('plotly.js/lib/box')]);
module.exports = Plotly;
