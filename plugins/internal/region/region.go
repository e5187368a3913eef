package region

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Errors wrapped by Parse.
var (
	// ErrSyntax means the string is not a valid region.
	ErrSyntax = errors.New("region: malformed")
	// ErrUnknownRef means the reference name is not in the header.
	ErrUnknownRef = errors.New("region: unknown reference")
	// ErrAmbiguous means the string reads both as a name and as name:range.
	ErrAmbiguous = errors.New("region: ambiguous")
)

// MaxPos is the end of a region that runs to the end of its reference
// (htslib's HTS_POS_MAX).
const MaxPos = int64(math.MaxInt64)

// maxCoord bounds parsed numbers so that arithmetic cannot overflow.
const maxCoord = int64(1) << 53

// Lookup returns the length of a named reference and whether it exists.
type Lookup func(name string) (length int64, ok bool)

// Region is a parsed region: a reference name and a 0-based half-open
// interval [Beg, End). End is MaxPos when the region runs to the reference end.
type Region struct {
	Name     string
	Beg, End int64
	// ZeroStart records a start written as 0 with a range ("chr:0-100").
	// htslib keeps such a start as -1: view treats it as 1, faidx returns
	// an empty sequence. Beg is 0 either way.
	ZeroStart bool
}

// Parse parses one region string.
func Parse(s string, lookup Lookup) (Region, error) {
	if s == "" {
		return Region{}, fmt.Errorf("%w: empty region", ErrSyntax)
	}
	var colon = -1
	quoted := false
	name := s
	if s[0] == '{' {
		close := strings.IndexByte(s, '}')
		if close < 0 {
			return Region{}, fmt.Errorf("%w: mismatching braces in %q", ErrSyntax, s)
		}
		quoted = true
		name = s[1:close]
		switch {
		case close+1 == len(s):
		case s[close+1] == ':':
			colon = close + 1
		default:
			return Region{}, fmt.Errorf("%w: unexpected %q after braced name in %q", ErrSyntax, s[close+1:], s)
		}
	} else {
		colon = strings.LastIndexByte(s, ':')
	}
	if colon < 0 {
		if _, ok := lookup(name); !ok {
			return Region{}, fmt.Errorf("%w: %q", ErrUnknownRef, name)
		}
		return Region{Name: name, Beg: 0, End: MaxPos}, nil
	}
	if !quoted {
		if _, ok := lookup(s); ok {
			if _, ok := lookup(s[:colon]); ok {
				return Region{}, fmt.Errorf("%w: %q is a reference name and %q is too; use {%s} or {%s}%s",
					ErrAmbiguous, s, s[:colon], s, s[:colon], s[colon:])
			}
			return Region{Name: s, Beg: 0, End: MaxPos}, nil
		}
		name = s[:colon]
	}
	if _, ok := lookup(name); !ok {
		return Region{}, fmt.Errorf("%w: %q", ErrUnknownRef, name)
	}
	beg, end, zero, err := parseRange(s[colon+1:])
	if err != nil {
		return Region{}, fmt.Errorf("%w in %q", err, s)
	}
	return Region{Name: name, Beg: beg, End: end, ZeroStart: zero}, nil
}

// parseRange parses what follows the colon: "", "beg", "beg-", "beg-end" or
// "-end", 1-based inclusive, and returns a 0-based half-open interval.
func parseRange(r string) (beg, end int64, zero bool, err error) {
	if r == "" {
		return 0, MaxPos, false, nil
	}
	rest := r
	if r[0] == '-' {
		// "-end": from the start.
		e, tail, err := parseNum(r[1:])
		if err != nil {
			return 0, 0, false, err
		}
		if tail != "" {
			return 0, 0, false, fmt.Errorf("%w: unexpected %q after region", ErrSyntax, tail)
		}
		if e == 0 {
			return 0, MaxPos, false, nil
		}
		return 0, e, false, nil
	}
	b, tail, err := parseNum(rest)
	if err != nil {
		return 0, 0, false, err
	}
	// htslib treats a start of 0 as 1 here (see Region.ZeroStart).
	beg = max(b-1, 0)
	switch {
	case tail == "":
		return beg, MaxPos, false, nil
	case tail[0] == '-':
		zero = b == 0
		if tail == "-" {
			return beg, MaxPos, zero, nil
		}
		e, t2, err := parseNum(tail[1:])
		if err != nil {
			return 0, 0, false, err
		}
		if t2 != "" {
			return 0, 0, false, fmt.Errorf("%w: unexpected %q after region", ErrSyntax, t2)
		}
		end = e
		if end == 0 {
			end = MaxPos
		}
	default:
		return 0, 0, false, fmt.Errorf("%w: unexpected %q after region", ErrSyntax, tail)
	}
	if beg >= end {
		return 0, 0, false, fmt.Errorf("%w: start %d is after end %d", ErrSyntax, beg+1, end)
	}
	return beg, end, zero, nil
}

// parseNum reads a non-negative decimal with optional thousands separators,
// fraction, exponent or k/M/G suffix, returning the value and the rest.
func parseNum(s string) (int64, string, error) {
	var mant int64
	digits, decimals, i := 0, 0, 0
	push := func(c byte) error {
		if mant > (maxCoord-9)/10 {
			return fmt.Errorf("%w: number too large", ErrSyntax)
		}
		mant = mant*10 + int64(c-'0')
		return nil
	}
	for i < len(s) {
		c := s[i]
		if c >= '0' && c <= '9' {
			if err := push(c); err != nil {
				return 0, "", err
			}
			digits++
		} else if c != ',' {
			break
		}
		i++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if err := push(s[i]); err != nil {
				return 0, "", err
			}
			digits++
			decimals++
			i++
		}
	}
	if digits == 0 {
		return 0, "", fmt.Errorf("%w: expected a number at %q", ErrSyntax, s)
	}
	exp := 0
	if i < len(s) {
		switch s[i] {
		case 'e', 'E':
			i++
			neg := false
			if i < len(s) && (s[i] == '+' || s[i] == '-') {
				neg = s[i] == '-'
				i++
			}
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				exp = exp*10 + int(s[i]-'0')
				if exp > 30 {
					return 0, "", fmt.Errorf("%w: exponent too large", ErrSyntax)
				}
				i++
			}
			if neg {
				exp = -exp
			}
		case 'k', 'K':
			exp = 3
			i++
		case 'm', 'M':
			exp = 6
			i++
		case 'g', 'G':
			exp = 9
			i++
		}
	}
	exp -= decimals
	for ; exp > 0; exp-- {
		if mant > maxCoord/10 {
			return 0, "", fmt.Errorf("%w: number too large", ErrSyntax)
		}
		mant *= 10
	}
	for ; exp < 0; exp++ {
		if mant%10 != 0 {
			return 0, "", fmt.Errorf("%w: fractional position %q", ErrSyntax, s[:i])
		}
		mant /= 10
	}
	return mant, s[i:], nil
}
