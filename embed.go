// Package edgenome holds what the whole repository shares: the embedded
// default configuration. The host lives in host/, the tools in plugins/.
package edgenome

import _ "embed"

// DefaultConfig is config.yaml, served when no --config is given.
//
//go:embed config.yaml
var DefaultConfig []byte
