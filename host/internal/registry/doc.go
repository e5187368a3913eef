// Package registry loads plugins from the registry folder (one folder per
// plugin: plugin.yaml + <name>.wasm), checks each manifest, its sha256 and
// ABI version, compiles it, and publishes immutable snapshots. A watcher
// reloads within a moment of a drop-in, a replaced wasm or a removed
// folder; a request keeps the version it started with, and an old version
// is closed once its last request ends.
package registry
