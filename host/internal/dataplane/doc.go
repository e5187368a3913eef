// Package dataplane owns one plugin call's data: its output stream, its
// request body, the sources it may read (configured references and URLs it
// opens through the source_open host function) and the first data-plane
// failure, which decides the error the client sees.
//
// A Call implements fs.FS for the guest's /sources mount and the Services
// that host functions call. Instances are created before requests arrive, so
// the runtime binds a Call to an instance for the duration of one call.
package dataplane
