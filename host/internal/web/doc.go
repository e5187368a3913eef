// Package web serves the browser UI: a single-page app embedded in the
// binary (plain HTML, CSS and ES modules; no framework, no CDN, no build
// step), at GET / with its assets under /ui/.
//
// The page only calls the public API (/plugins, /references and
// /plugin/<name>/<export>), so everything it shows is what any client gets:
// forms are generated from the parameters each export declares, so a plugin
// dropped into the registry gets a working form with no change here.
//
// Views, selected by location.hash so a link restores them:
//
//	#/run/<plugin>/<export>?<params>  a generated form; output streamed in
//	#/qc                              FASTQ QC of a local file in chunks
//
// Files in static/: index.html (shell), app.js (catalogue, routing),
// form.js (parameter forms, region checks), run.js (streaming runs),
// qc.js (chunked FASTQ QC and merging), charts.js (SVG charts), api.js
// (fetch helpers and the API's error shape), style.css.
package web
