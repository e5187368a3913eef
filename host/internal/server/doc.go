// Package server is the HTTP API. A request to /plugin/<name>[/<export>]
// goes through, in order:
//
//  1. plugin.go: find the plugin and export in the registry snapshot and
//     hold that version for the whole request;
//  2. params.go: validate and convert the parameters against the manifest;
//  3. stream.go + dataplane: bind the response stream, the request body and
//     the sources (block-cached range reads) to the call;
//  4. runtime: wait for a slot within the plugin's limits and run it;
//  5. errors.go: map any failure to a status and a JSON error, or abort the
//     stream if output was already sent.
//
// catalog.go serves /plugins, /references and /healthz; metrics.go /metrics.
package server
