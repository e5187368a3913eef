package guest

import "strings"

// WithSuffix appends suffix to a URL's path, before any query string, where
// a presigned URL keeps its signature: the index of
// https://b/x.bam?sig=1 is https://b/x.bam.bai?sig=1.
func WithSuffix(url, suffix string) string {
	if i := strings.IndexByte(url, '?'); i >= 0 {
		return url[:i] + suffix + url[i:]
	}
	return url + suffix
}
