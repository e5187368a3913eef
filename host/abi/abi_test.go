package abi

import (
	"errors"
	"testing"
)

func TestFrames(t *testing.T) {
	tests := []struct {
		frame   []byte
		payload string
		status  Status
		empty   bool
	}{
		{Frame(StatusOK, []byte("/sources/url/0")), "/sources/url/0", StatusOK, false},
		{Frame(StatusOK, nil), "", StatusOK, false},
		{Frame(StatusDenied, []byte("not allowed")), "not allowed", StatusDenied, false},
		{nil, "", 0, true},
	}
	for _, tt := range tests {
		p, err := ParseFrame(tt.frame)
		var fe *FrameError
		switch {
		case tt.empty:
			if !errors.Is(err, ErrEmptyFrame) {
				t.Errorf("ParseFrame(%q) err = %v, want ErrEmptyFrame", tt.frame, err)
			}
		case tt.status == StatusOK:
			if err != nil || string(p) != tt.payload {
				t.Errorf("ParseFrame(%q) = %q, %v", tt.frame, p, err)
			}
		case !errors.As(err, &fe) || fe.Status != tt.status || fe.Message != tt.payload:
			t.Errorf("ParseFrame(%q) err = %v, want status %d %q", tt.frame, err, tt.status, tt.payload)
		}
	}
}

func TestEnvelope(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		code Code
	}{
		{`{"code":"bad_input","message":"line 3: no sequence"}`, true, CodeBadInput},
		{"  {\"code\":\"too_large\",\"message\":\"\"}\n", true, CodeTooLarge},
		{`{"message":"no code"}`, false, ""},
		{`panic: runtime error`, false, ""},
		{`{"code":`, false, ""},
		{``, false, ""},
	}
	for _, tt := range tests {
		env, ok := ParseEnvelope(tt.in)
		if ok != tt.ok || env.Code != tt.code {
			t.Errorf("ParseEnvelope(%q) = %+v, %v", tt.in, env, ok)
		}
	}
	e := &Envelope{Code: CodeNotFound, Message: `no "chr9"`}
	back, ok := ParseEnvelope(string(e.Encode()))
	if !ok || back != *e {
		t.Errorf("round trip: %+v %v", back, ok)
	}
}

func TestPaths(t *testing.T) {
	if ReferencePath("demo") != "/sources/ref/demo" || ReferenceIndexPath("demo") != "/sources/ref/demo.fai" {
		t.Error("reference paths changed: they are part of the ABI")
	}
	for n, want := range map[int]string{0: "/sources/url/0", 7: "/sources/url/7", 12345: "/sources/url/12345"} {
		if got := URLSourcePath(n); got != want {
			t.Errorf("URLSourcePath(%d) = %q", n, got)
		}
	}
}

func FuzzParseEnvelope(f *testing.F) {
	f.Add(`{"code":"bad_input","message":"x"}`)
	f.Add(`{"code":1}`)
	f.Add("{")
	f.Fuzz(func(t *testing.T, s string) {
		env, ok := ParseEnvelope(s)
		if ok && env.Code == "" {
			t.Fatalf("accepted an envelope without a code: %q", s)
		}
	})
}

func FuzzParseFrame(f *testing.F) {
	f.Add([]byte{0, 'a'})
	f.Add([]byte{3})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseFrame(b)
		if err == nil && len(p) != len(b)-1 {
			t.Fatalf("payload length %d for frame of %d", len(p), len(b))
		}
	})
}
