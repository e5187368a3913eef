package guest

import "testing"

func TestWithSuffix(t *testing.T) {
	tests := []struct{ url, suffix, want string }{
		{"https://h/ref.fa", ".fai", "https://h/ref.fa.fai"},
		{"https://h/x.bam?X-Amz-Signature=ab&e=1", ".bai", "https://h/x.bam.bai?X-Amz-Signature=ab&e=1"},
		{"http://h/a?", ".csi", "http://h/a.csi?"},
	}
	for _, tt := range tests {
		if got := WithSuffix(tt.url, tt.suffix); got != tt.want {
			t.Errorf("WithSuffix(%q, %q) = %q, want %q", tt.url, tt.suffix, got, tt.want)
		}
	}
}
