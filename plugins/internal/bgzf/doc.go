// Package bgzf reads BGZF (blocked gzip) files, the container of BAM, CSI
// and bgzipped FASTA, block by block from an io.ReaderAt.
//
// The reader fetches only the blocks a caller asks for. It reads through a
// small read-ahead window that grows while access is sequential and shrinks
// back after a jump, so whole-file streaming makes few large reads while an
// indexed region query reads little more than the blocks it needs.
//
// Every block is checked: gzip magic, the BC extra subfield, deflate data,
// CRC32 and ISIZE. Failures are *Error values that wrap ErrNotBGZF,
// ErrCorrupt or ErrTruncated and name the block's file offset.
package bgzf
