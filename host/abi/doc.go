// Package abi is the edgenome plugin ABI: the one place that defines what a
// plugin and the host may expect of each other. Plugin code imports it too, so
// it uses the standard library only and compiles for amd64 and wasip1.
//
// # Version
//
// This is ABI version 1 ([Version]). A plugin states the version it was built
// for in its manifest (abi: 1) and returns it from the export [ExportABI]; the
// host refuses a plugin whose two answers differ from [Version]. Status codes,
// error codes and host functions are only ever appended, never renumbered.
//
// # Two planes
//
// Control goes through Extism: small JSON in, a small JSON error envelope out,
// logs, and the host functions below. Bulk data goes through WASI, which is
// 30-100x faster than Extism's byte path on wazero (measured: Extism input
// ~100 MB/s, WASI stdout ~4 GB/s):
//
//   - stdout is the response body, streamed to the client as it is written.
//     Buffer it (64 KiB or more per write): each write is one host crossing.
//   - stdin is the request body (empty when there is none), streamed.
//   - every source is a read-only file under [MountDir]; each positioned read
//     (pread) is a range read served by the host's block cache. Configured
//     references appear as [ReferencePath] and [ReferenceIndexPath]; any other
//     URL is opened at run time with the host function [FnSourceOpen], which
//     checks the operator's allowlist and returns the file's path.
//
// A source that is BGZF-compressed (BAM, bgzipped FASTA or VCF) also has an
// inflated view at its path + ".bgzf": a positioned read at the file offset
// where a BGZF block starts returns that block's inflated bytes (the buffer
// must hold the whole block, at most 64 KiB), CRC-checked by the host.
// Inflating natively is several times faster than inflate compiled to Wasm.
//
// stderr is captured by the host (bounded) and logged; it never reaches the
// client. The environment holds EDGENOME_MEMORY_LIMIT ([EnvMemoryLimit]):
// the plugin's memory limit in bytes, so it can size its tables to fit.
//
// # Calling convention
//
// Each endpoint of a plugin is an Extism export: a function with no
// parameters that returns an i32. Its input (Extism input) is a JSON object of
// the parameters, already validated and converted by the host against the
// manifest: int and float parameters are JSON numbers, bool is a JSON bool,
// string, enum, region and url are JSON strings, a repeatable parameter is a
// JSON array, and a reference parameter is a JSON object [ReferenceParam].
// Parameters the caller did not give and that have no default are absent.
//
// Return 0 for success. On failure, set the Extism error to an [Envelope]
// (JSON {"code": ..., "message": ...}) and return non-zero. The host maps
// [Code] values to HTTP statuses; any other failure (a trap, a non-envelope
// error, exit) is reported to the client as a plugin crash.
//
// Output written before a failure may already have reached the client: the
// host holds back the first 64 KiB (or 50 ms) so early errors still get a
// proper status, and after that aborts the stream so a failure is never
// mistaken for a complete response.
//
// A plugin should also export [ExportABI], which the host calls when it
// prepares an instance (so the guest runtime initialises before a request
// arrives) and whose result must equal [Version]. A plain Extism plugin
// without it still runs (its guest runtime initialises on the first call),
// and whatever it returns through Extism's output is sent to the client
// after its stdout: an off-the-shelf Extism plugin with a manifest works
// as it is.
//
// stdout is the fast path; Extism's output is held in memory until the call
// ends, and is meant for small results.
//
// # Host functions (Extism namespace [HostModule])
//
// Arguments and results are Extism memory offsets (i64). A result is a frame
// (see [Frame]): one status byte ([Status]), then the payload on success or
// a UTF-8 message on failure.
//
// [FnSourceOpen] (url_ptr) -> frame_ptr
//
//	Opens a URL as a source. Payload: the path of a read-only file under
//	MountDir. Fails with StatusDenied when the host is not allowed (the
//	allowlist, private and metadata addresses), StatusNotFound, or
//	StatusOrigin when the origin misbehaves. Opening the same URL twice in one
//	call returns the same path.
//
// [FnRangeRead] (url_ptr, offset i64, length i64) -> frame_ptr
//
//	Reads length bytes at offset of a URL through the same cache, for plugins
//	that cannot use WASI files. Payload: the bytes (shorter only at the end of
//	the object). Same errors as FnSourceOpen, plus StatusLimit when length
//	exceeds MaxRangeRead.
//
// [FnIOError] () -> frame_ptr
//
//	Returns the message of the last data-plane failure of this call (a failed
//	source read or stdout write surfaces in the guest only as EIO). Payload
//	empty when there was none.
//
// [FnSetHeader] (name_ptr, value_ptr) -> frame_ptr
//
//	Sets a response header before the first byte of output. Only names
//	starting with "X-" are accepted (Content-Type comes from the manifest).
//	Fails with StatusState once output has been sent.
//
// # Limits
//
// Memory, time, output bytes, bytes fetched from origins and concurrency are
// set per plugin by the operator. When a data-plane limit is hit the guest's
// next read or write fails; the host reports the limit, whatever the plugin
// says afterwards.
package abi

// # Manifest
//
// A plugin is a folder registry/<name>/ holding <name>.wasm and plugin.yaml:
//
//	name: wgsim                  # ^[a-z][a-z0-9_]*$, equal to the folder name
//	version: 1.0.0
//	abi: 1                       # Version
//	summary: Simulate sequencing reads like wgsim
//	sha256: 3f2a...              # of <name>.wasm; a mismatch refuses the plugin
//	limits: {timeout: 120s}      # defaults; the operator's config.yaml overrides
//	modules:                     # optional helper modules (see below)
//	  - name: fast               # ^[a-z][a-z0-9_]*$, not a host module's name
//	    wasm: fast.wasm          # a file in the plugin's folder
//	    sha256: 9c1e...          # of that file; a mismatch refuses the plugin
//	exports:
//	  - name: simulate           # an Extism export of the module
//	    default: true            # served at /plugin/<name>; else the first export
//	    content_type: text/x-fastq
//	    summary: Paired reads, interleaved FASTQ
//	    body: false              # true: the request body is streamed to stdin
//	    decompress: false        # true: a gzip body is decoded by the host
//	                             # (natively, ahead of the plugin); max_input
//	                             # bounds the decoded bytes
//	    params:
//	      - name: n
//	        type: int            # string|int|float|bool|region|url|reference|enum
//	        default: 1000
//	        min: 1
//	        max: 100000000
//	        description: Number of read pairs
//	      - name: region
//	        type: region
//	        repeatable: true
//	      - name: output
//	        type: enum
//	        values: [interleaved, read1, read2]
//	        default: interleaved
//	      - name: ref
//	        type: reference
//	        required: true
//
// Parameter names match ^[a-z][a-z0-9_]*$. A parameter the caller repeats
// without repeatable: true, an unknown parameter, a value of the wrong type or
// out of [min, max] is refused by the host with 400 bad_param before the
// plugin runs.
//
// # Helper modules
//
// A plugin may link helper modules, as an Extism manifest with several
// modules does: the main module (<name>.wasm) imports a helper's exports
// under the helper's name (in Go, //go:wasmimport fast run). Use it to
// write a hot path in another language: the samtools plugin formats BAM
// records in C (plugins/samtools/samfmt), 4x faster in Wasm than Go.
//
// Each instance of the plugin gets its own instance of each helper, with
// its own memory and file descriptors but the same stdout, stdin and
// sources: a helper opens a source's path itself (the main module passes
// it) and writes the response to its own stdout, which goes out in call
// order (flush the main module's buffer first). Arguments and results are
// scalars; bytes go through Extism memory (the helper imports
// "extism:host/env" alloc, length, load_u64, store_u64, ...). The host
// functions above are there for helpers too. Helpers run under the same
// limits (the memory limit applies to each module's memory) and the same
// preemption. Nothing calls a helper's _initialize or _start, and Extism
// exports a helper's function under its name-section name, which must equal
// its export name: build C helpers as reactors (clang -mexec-model=reactor)
// and without constructors. The host refuses a helper that breaks this.
