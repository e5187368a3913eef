package runtime

import "errors"

// Errors of the runtime. The server maps them to HTTP statuses.
var (
	// ErrBusy: the plugin's queue is full (429).
	ErrBusy = errors.New("too many requests waiting for this plugin")
	// ErrOverloaded: a request waited longer than queue_wait (503).
	ErrOverloaded = errors.New("no instance became free in time")
	// ErrClosed: the module was unloaded.
	ErrClosed = errors.New("plugin version is unloaded")
	// ErrABI: the module does not speak this host's ABI.
	ErrABI = errors.New("plugin ABI mismatch")
	// ErrCrashed: the plugin trapped, exited or failed without an envelope.
	ErrCrashed = errors.New("plugin crashed")
	// ErrMemory: the plugin ran out of its memory limit.
	ErrMemory = errors.New("plugin memory limit reached")
	// ErrTimeout: the call ran past its timeout.
	ErrTimeout = errors.New("plugin time limit reached")
)
