package abi

import (
	"encoding/json"
	"errors"
	"strings"
)

// Version is the ABI version this package describes.
const Version = 1

// Names shared by host and guest.
const (
	// HostModule is the Extism namespace of edgenome's host functions.
	HostModule = "edgenome"

	FnSourceOpen = "source_open"
	FnRangeRead  = "range_read"
	FnIOError    = "io_error"
	FnSetHeader  = "set_header"

	// ExportABI is the export every plugin provides; it returns Version.
	ExportABI = "edgenome_abi"

	// MountDir is where sources appear in the guest's file system.
	MountDir = "/sources"

	// EnvMemoryLimit is the environment variable holding the plugin's
	// memory limit in bytes, so it can size its tables to fit.
	EnvMemoryLimit = "EDGENOME_MEMORY_LIMIT"

	// MaxRangeRead bounds one FnRangeRead, which moves bytes through Extism
	// memory (slow): use WASI file reads for bulk data.
	MaxRangeRead = 16 << 20
)

// ReferencePath is the guest path of a configured reference's FASTA.
func ReferencePath(name string) string { return MountDir + "/ref/" + name }

// ReferenceIndexPath is the guest path of a configured reference's .fai.
func ReferenceIndexPath(name string) string { return ReferencePath(name) + ".fai" }

// URLSourcePath is the guest path of the n-th URL opened in one call.
func URLSourcePath(n int) string { return MountDir + "/url/" + itoa(n) }

// ReferenceParam is how a parameter of type reference reaches the plugin.
type ReferenceParam struct {
	Name  string `json:"name"`
	Fasta string `json:"fasta"` // guest path of the FASTA
	Fai   string `json:"fai"`   // guest path of its .fai
}

// Status is the first byte of a host function's result frame.
type Status byte

// Frame statuses. Appended only.
const (
	StatusOK       Status = 0
	StatusDenied   Status = 1 // the source is not allowed
	StatusNotFound Status = 2 // the origin says the object does not exist
	StatusOrigin   Status = 3 // the origin failed or misbehaved
	StatusLimit    Status = 4 // a limit of this call was reached
	StatusDeadline Status = 5 // the call's time is up or the client left
	StatusArgument Status = 6 // a malformed argument
	StatusState    Status = 7 // not allowed now (e.g. header after output)
	StatusChanged  Status = 8 // the object changed during the call
)

// Frame builds a result frame: status byte then payload.
func Frame(s Status, payload []byte) []byte {
	b := make([]byte, 1+len(payload))
	b[0] = byte(s)
	copy(b[1:], payload)
	return b
}

// ErrEmptyFrame is returned by ParseFrame for a frame without a status byte.
var ErrEmptyFrame = errors.New("abi: empty frame")

// FrameError is a failed host function result.
type FrameError struct {
	Status  Status
	Message string
}

func (e *FrameError) Error() string { return e.Message }

// ParseFrame splits a frame into its payload, or a *FrameError.
func ParseFrame(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, ErrEmptyFrame
	}
	if Status(b[0]) != StatusOK {
		return nil, &FrameError{Status: Status(b[0]), Message: string(b[1:])}
	}
	return b[1:], nil
}

// Code is a stable error code, shown to clients in JSON error bodies.
type Code string

// Codes a plugin may put in its Envelope. The host adds its own (see the
// server package); the HTTP status of each is documented there and in the
// README.
const (
	CodeBadParam    Code = "bad_param"    // 400: a parameter is wrong
	CodeBadInput    Code = "bad_input"    // 400: the data (body, file) is malformed
	CodeNotFound    Code = "not_found"    // 404: a named thing does not exist
	CodeTooLarge    Code = "too_large"    // 422: the work does not fit the plugin's limits
	CodeUnsupported Code = "unsupported"  // 422: valid input the plugin cannot handle
	CodeSource      Code = "source_error" // 502: a source could not be read
	CodeInternal    Code = "internal"     // 500: a bug in the plugin
	CodeBadFile     Code = "bad_file"     // 422: a source is corrupt, truncated or not of its format
)

// Envelope is the JSON error a plugin sets through Extism's error.
type Envelope struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

func (e *Envelope) Error() string { return string(e.Code) + ": " + e.Message }

// Encode returns the envelope as JSON.
func (e *Envelope) Encode() []byte {
	b, _ := json.Marshal(e)
	return b
}

// ParseEnvelope decodes an Extism error string into an Envelope. ok is false
// when the string is not an envelope (the plugin crashed or is not ours).
func ParseEnvelope(s string) (env Envelope, ok bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") {
		return Envelope{}, false
	}
	if err := json.Unmarshal([]byte(s), &env); err != nil || env.Code == "" {
		return Envelope{}, false
	}
	return env, true
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
