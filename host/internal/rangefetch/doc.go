// Package rangefetch gives the host random access to remote objects (http and
// https URLs) and to operator-configured local files.
//
// Every read of a remote object is served from a fixed-size block cache,
// bounded in bytes, that is filled by HTTP Range requests. The package knows
// nothing about Wasm: the host wraps an [Object] as a read-only file or as the
// range_read host function.
//
// # Lifecycle
//
// [New] validates a [Config] and builds one [Fetcher] per process (one HTTP
// client, one cache). Each plugin call gets a [Session] from
// [Fetcher.NewSession]; the session carries the call's context into every
// origin request, counts the bytes pulled from origins against the call's
// max_fetch budget, and pins every object it opens to the version it first saw.
// Call [Session.Close] when the call ends.
//
// # Correctness rules
//
//   - Cached blocks are keyed by (URL, version, block index). The version is a
//     strong ETag, else Last-Modified, plus the object size. Objects with no
//     validator at all are cached for one session only, because nothing
//     could prove that a later session sees the same bytes.
//   - [Session.Open] makes one conditional request (If-None-Match or
//     If-Modified-Since against the last version seen by any session) for the
//     first block, so opening an unchanged, cached object moves zero body
//     bytes, and a changed object is never served from stale blocks.
//   - Later requests carry If-Match (or If-Unmodified-Since). A 412, a changed
//     validator, or a changed size fails the read with [ErrChanged]; a read
//     never mixes two versions.
//   - Only responses that pass every check (status, Content-Range equal to
//     the range asked for, identity encoding, exact body length) are cached.
//   - Concurrent misses on one block make one origin request; the missing
//     blocks of one read that are adjacent are fetched by one ranged request.
//
// # Read-ahead
//
// An object read front to back is fetched ahead of its reader in the
// background (readahead.go), once 512 KiB have been read in order, in runs
// that double up to 4 MiB. It is bounded by the cache (an eighth), by half of
// the session's remaining budget, and by the session: Close cancels it and
// waits for it.
//
// # Address guard
//
// Untrusted URLs must match Config.AllowedHosts ([Fetcher.CheckURL]) on the
// first request and on every redirect hop. Every dial resolves the host name
// itself and refuses loopback, private, link-local, metadata, CGNAT,
// multicast and other special-purpose addresses (the IANA lists of
// code.dny.dev/ssrf) unless the host is listed exactly (no wildcard) in
// AllowedHosts or is the host of a trusted (configured) source. The check is
// made on the address actually dialled, so DNS rebinding cannot slip past it.
// Proxies from the environment are ignored.
package rangefetch
