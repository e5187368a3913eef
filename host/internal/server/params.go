package server

import (
	"encoding/json"
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/edgenome/edgenome/host/abi"
	"github.com/edgenome/edgenome/host/internal/registry"
)

// Bounds on what a caller may send as parameters.
const (
	maxParamValue  = 8 << 10
	maxParamValues = 1000
)

// paramEnv is what parameter conversion needs to know about the host.
type paramEnv struct {
	refs     map[string]bool
	checkURL func(string) error
	// max holds the operator's tighter bounds (limits' param_max).
	max map[string]float64
}

// convert validates the request's values against the export's parameters
// and returns the JSON input of the call. Every error names the parameter.
func convert(exp *registry.Export, values url.Values, env paramEnv) ([]byte, *Error) {
	known := map[string]*registry.Param{}
	for i := range exp.Params {
		known[exp.Params[i].Name] = &exp.Params[i]
	}
	var unknown []string
	for name := range values {
		if known[name] == nil {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		names := make([]string, 0, len(exp.Params))
		for _, p := range exp.Params {
			names = append(names, p.Name)
		}
		if len(names) == 0 {
			return nil, newError(abi.CodeBadParam, "unknown parameter %q: %s takes no parameters", unknown[0], exp.Name)
		}
		return nil, newError(abi.CodeBadParam, "unknown parameter %q (%s takes: %s)", unknown[0], exp.Name, strings.Join(names, ", "))
	}
	out := map[string]any{}
	for i := range exp.Params {
		p := &exp.Params[i]
		vs, given := values[p.Name]
		if !given {
			switch {
			case p.Required:
				return nil, newError(abi.CodeBadParam, "missing parameter %q (%s)", p.Name, describe(p))
			case p.Default != nil:
				v := p.Default
				if p.Repeatable {
					v = []any{v}
				}
				out[p.Name] = v
			}
			continue
		}
		if len(vs) > 1 && !p.Repeatable {
			return nil, newError(abi.CodeBadParam, "parameter %q given %d times; it takes one value", p.Name, len(vs))
		}
		if len(vs) > maxParamValues {
			return nil, newError(abi.CodeBadParam, "parameter %q given %d times; at most %d", p.Name, len(vs), maxParamValues)
		}
		conv := make([]any, 0, len(vs))
		for _, raw := range vs {
			v, err := convertOne(p, raw, env)
			if err != nil {
				return nil, err
			}
			conv = append(conv, v)
		}
		if p.Repeatable {
			out[p.Name] = conv
		} else {
			out[p.Name] = conv[0]
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, newError(abi.CodeInternal, "encoding parameters: %v", err)
	}
	return b, nil
}

func describe(p *registry.Param) string {
	s := p.Type
	if p.Type == abi.TypeEnum {
		s = "one of " + strings.Join(p.Values, ", ")
	}
	if p.Description != "" {
		s += ": " + p.Description
	}
	return s
}

func convertOne(p *registry.Param, raw string, env paramEnv) (any, *Error) {
	bad := func(format string, args ...any) *Error {
		e := newError(abi.CodeBadParam, format, args...)
		e.Message = "parameter " + strconv.Quote(p.Name) + ": " + e.Message
		return e
	}
	if len(raw) > maxParamValue {
		return nil, bad("value is %d bytes long; at most %d", len(raw), maxParamValue)
	}
	if !utf8.ValidString(raw) || strings.ContainsAny(raw, "\x00\r\n") {
		return nil, bad("value is not printable UTF-8 text")
	}
	switch p.Type {
	case abi.TypeInt:
		s := strings.ReplaceAll(strings.TrimSpace(raw), ",", "") // 1,000,000 as people write it
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, bad("%q is not an integer", raw)
		}
		if e := checkRange(p, float64(n), raw, env.max); e != "" {
			return nil, bad("%s", e)
		}
		return n, nil
	case abi.TypeFloat:
		f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, bad("%q is not a number", raw)
		}
		if e := checkRange(p, f, raw, env.max); e != "" {
			return nil, bad("%s", e)
		}
		return f, nil
	case abi.TypeBool:
		switch strings.ToLower(strings.TrimSpace(raw)) {
		case "", "1", "true", "yes", "on":
			return true, nil // ?flag alone means true, as in a CLI
		case "0", "false", "no", "off":
			return false, nil
		}
		return nil, bad("%q is not true or false", raw)
	case abi.TypeEnum:
		if !slices.Contains(p.Values, raw) {
			return nil, bad("%q is not one of %s", raw, strings.Join(p.Values, ", "))
		}
		return raw, nil
	case abi.TypeRegion:
		if strings.TrimSpace(raw) == "" {
			return nil, bad("empty region (want e.g. chr1, chr1:1000-2000)")
		}
		return raw, nil
	case abi.TypeURL:
		if env.checkURL != nil {
			if err := env.checkURL(raw); err != nil {
				e := dataError(err)
				if e == nil || e.Code == CodeOrigin {
					return nil, bad("%v", err)
				}
				e.Message = "parameter " + strconv.Quote(p.Name) + ": " + e.Message
				return nil, e
			}
		}
		return raw, nil
	case abi.TypeReference:
		if !env.refs[raw] {
			names := make([]string, 0, len(env.refs))
			for n := range env.refs {
				names = append(names, n)
			}
			sort.Strings(names)
			if len(names) == 0 {
				return nil, bad("unknown reference %q: none is configured", raw)
			}
			return nil, bad("unknown reference %q (configured: %s)", raw, strings.Join(names, ", "))
		}
		return abi.ReferenceParam{Name: raw, Fasta: abi.ReferencePath(raw), Fai: abi.ReferenceIndexPath(raw)}, nil
	}
	return raw, nil
}

func checkRange(p *registry.Param, v float64, raw string, opMax map[string]float64) string {
	if p.Min != nil && v < *p.Min {
		return raw + " is below the minimum " + strconv.FormatFloat(*p.Min, 'g', -1, 64)
	}
	if p.Max != nil && v > *p.Max {
		return raw + " is above the maximum " + strconv.FormatFloat(*p.Max, 'g', -1, 64)
	}
	if m, ok := opMax[p.Name]; ok && v > m {
		return raw + " is above this server's maximum " + strconv.FormatFloat(m, 'f', -1, 64)
	}
	return ""
}
