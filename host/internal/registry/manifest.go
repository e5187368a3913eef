package registry

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"slices"

	"github.com/edgenome/edgenome/host/abi"
	"github.com/edgenome/edgenome/host/config"
	"go.yaml.in/yaml/v3"
)

// Manifest is a plugin.yaml, as documented in host/abi.
type Manifest struct {
	Name    string        `yaml:"name" json:"name"`
	Version string        `yaml:"version" json:"version"`
	ABI     int           `yaml:"abi" json:"abi"`
	Summary string        `yaml:"summary" json:"summary"`
	Wasm    string        `yaml:"wasm" json:"-"`
	SHA256  string        `yaml:"sha256" json:"sha256"`
	Limits  config.Limits `yaml:"limits" json:"-"`
	Modules []Module      `yaml:"modules" json:"-"`
	Exports []Export      `yaml:"exports" json:"exports"`
}

// Module is a helper module linked into the plugin (see host/abi).
type Module struct {
	Name   string `yaml:"name"`
	Wasm   string `yaml:"wasm"`
	SHA256 string `yaml:"sha256"`
}

// reservedModules are import namespaces a helper's name must not shadow.
var reservedModules = map[string]bool{
	"main": true, "env": true, abi.HostModule: true, "wasi_snapshot_preview1": true, "edgenome_preempt": true,
}

// Export is one endpoint of a plugin.
type Export struct {
	Name        string  `yaml:"name" json:"name"`
	Default     bool    `yaml:"default" json:"default"`
	ContentType string  `yaml:"content_type" json:"content_type"`
	Summary     string  `yaml:"summary" json:"summary,omitempty"`
	Body        bool    `yaml:"body" json:"body"`
	Decompress  bool    `yaml:"decompress" json:"decompress,omitempty"`
	Params      []Param `yaml:"params" json:"params"`
}

// Param declares one parameter of an export.
type Param struct {
	Name        string   `yaml:"name" json:"name"`
	Type        string   `yaml:"type" json:"type"`
	Description string   `yaml:"description" json:"description,omitempty"`
	Default     any      `yaml:"default" json:"default,omitempty"`
	Min         *float64 `yaml:"min" json:"min,omitempty"`
	Max         *float64 `yaml:"max" json:"max,omitempty"`
	Values      []string `yaml:"values" json:"values,omitempty"`
	Repeatable  bool     `yaml:"repeatable" json:"repeatable,omitempty"`
	Required    bool     `yaml:"required" json:"required,omitempty"`
}

var (
	namePattern   = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	exportPattern = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
)

// ParseManifest decodes and checks a plugin.yaml. Unknown keys are errors,
// so a typo never silently drops a limit or a parameter.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("plugin.yaml: %w", err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("plugin.yaml: %w", err)
	}
	return &m, nil
}

// Validate checks the manifest for sense; it does not look at the wasm.
func (m *Manifest) Validate() error {
	var errs []error
	if !namePattern.MatchString(m.Name) {
		errs = append(errs, fmt.Errorf("name: %q must match %s", m.Name, namePattern))
	}
	if m.ABI != abi.Version {
		errs = append(errs, fmt.Errorf("abi: plugin is built for ABI %d, this host speaks %d", m.ABI, abi.Version))
	}
	if len(m.SHA256) != 64 {
		errs = append(errs, errors.New("sha256: required (64 hex digits of the wasm file)"))
	}
	if len(m.Exports) == 0 {
		errs = append(errs, errors.New("exports: at least one is required"))
	}
	errs = append(errs, m.Limits.Validate("limits"))
	mseen := map[string]bool{}
	for i, h := range m.Modules {
		key := fmt.Sprintf("modules[%d]", i)
		if !namePattern.MatchString(h.Name) || reservedModules[h.Name] {
			errs = append(errs, fmt.Errorf("%s.name: %q must match %s and not be one of the host's import modules", key, h.Name, namePattern))
		}
		if mseen[h.Name] {
			errs = append(errs, fmt.Errorf("%s.name: %q declared twice", key, h.Name))
		}
		mseen[h.Name] = true
		if h.Wasm == "" || filepath.Base(h.Wasm) != h.Wasm {
			errs = append(errs, fmt.Errorf("%s.wasm: %q must be a file in the plugin's folder", key, h.Wasm))
		}
		if len(h.SHA256) != 64 {
			errs = append(errs, fmt.Errorf("%s.sha256: required (64 hex digits of the wasm file)", key))
		}
	}
	seen := map[string]bool{}
	defaults := 0
	for i := range m.Exports {
		e := &m.Exports[i]
		key := fmt.Sprintf("exports[%d]", i)
		if !exportPattern.MatchString(e.Name) || e.Name == abi.ExportABI {
			errs = append(errs, fmt.Errorf("%s.name: %q is not a valid export name", key, e.Name))
		}
		if seen[e.Name] {
			errs = append(errs, fmt.Errorf("%s.name: %q declared twice", key, e.Name))
		}
		seen[e.Name] = true
		if e.Default {
			defaults++
		}
		if e.ContentType == "" {
			e.ContentType = "application/octet-stream"
		}
		pseen := map[string]bool{}
		for j := range e.Params {
			errs = append(errs, checkParam(fmt.Sprintf("%s.params[%d]", key, j), &e.Params[j], pseen))
		}
	}
	if defaults > 1 {
		errs = append(errs, errors.New("exports: more than one has default: true"))
	}
	return errors.Join(errs...)
}

func checkParam(key string, p *Param, seen map[string]bool) error {
	var errs []error
	if !namePattern.MatchString(p.Name) {
		errs = append(errs, fmt.Errorf("%s.name: %q must match %s", key, p.Name, namePattern))
	}
	if seen[p.Name] {
		errs = append(errs, fmt.Errorf("%s.name: %q declared twice", key, p.Name))
	}
	seen[p.Name] = true
	if !slices.Contains(abi.ParamTypes, p.Type) {
		errs = append(errs, fmt.Errorf("%s.type: %q is not one of %v", key, p.Type, abi.ParamTypes))
	}
	if p.Type == abi.TypeEnum && len(p.Values) == 0 {
		errs = append(errs, fmt.Errorf("%s.values: an enum needs values", key))
	}
	if p.Min != nil && p.Max != nil && *p.Min > *p.Max {
		errs = append(errs, fmt.Errorf("%s: min %v is above max %v", key, *p.Min, *p.Max))
	}
	if p.Default != nil {
		if err := checkDefault(p); err != nil {
			errs = append(errs, fmt.Errorf("%s.default: %w", key, err))
		}
	}
	return errors.Join(errs...)
}

func checkDefault(p *Param) error {
	switch p.Type {
	case abi.TypeInt:
		v, ok := p.Default.(int)
		if !ok {
			return fmt.Errorf("%v is not an integer", p.Default)
		}
		return inRange(p, float64(v))
	case abi.TypeFloat:
		var f float64
		switch v := p.Default.(type) {
		case int:
			f = float64(v)
		case float64:
			f = v
		default:
			return fmt.Errorf("%v is not a number", p.Default)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%v is not a finite number", p.Default)
		}
		return inRange(p, f)
	case abi.TypeBool:
		if _, ok := p.Default.(bool); !ok {
			return fmt.Errorf("%v is not true or false", p.Default)
		}
	case abi.TypeEnum:
		s, ok := p.Default.(string)
		if !ok || !slices.Contains(p.Values, s) {
			return fmt.Errorf("%v is not one of %v", p.Default, p.Values)
		}
	default:
		if _, ok := p.Default.(string); !ok {
			return fmt.Errorf("%v is not a string", p.Default)
		}
	}
	return nil
}

func inRange(p *Param, v float64) error {
	if p.Min != nil && v < *p.Min {
		return fmt.Errorf("%v is below min %v", v, *p.Min)
	}
	if p.Max != nil && v > *p.Max {
		return fmt.Errorf("%v is above max %v", v, *p.Max)
	}
	return nil
}

// Export returns the named export, or the default one for "".
func (m *Manifest) Export(name string) (*Export, bool) {
	if name == "" {
		for i := range m.Exports {
			if m.Exports[i].Default {
				return &m.Exports[i], true
			}
		}
		return &m.Exports[0], true
	}
	for i := range m.Exports {
		if m.Exports[i].Name == name {
			return &m.Exports[i], true
		}
	}
	return nil, false
}
