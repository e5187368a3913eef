// samfmt: the record path of `samtools view` as a helper module of the
// samtools plugin (see plugins/samtools/doc.go). The Go main module parses
// the request, the header, the index and the regions, then calls the export
// "view" once with a plan: which stretches of the BAM to read and how to
// filter. This module reads the BGZF blocks through the source's inflated
// view, decodes each record, filters it and writes SAM to stdout, as
// plugins/internal/bam (Reader, Record, AppendSAM) and View do in Go; that Go
// code is the reference and the messages below are the same, so an error
// reads the same on either path.
//
// Why C: Go compiled to Wasm runs this path 10-15x slower than native Go
// (short loops, bounds checks, small appends that are calls); C compiled to
// Wasm formats the same records in about a quarter of the time
// (bench/spikes/samfmt).
//
// The helper gets no _initialize call, so nothing here may rely on
// constructors: files are opened with raw WASI calls.
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <wasi/api.h>
#include <wasm_simd128.h>

#define IMPORT(m, n) __attribute__((import_module(m), import_name(n)))
#define EXPORT(n) __attribute__((export_name(n)))

IMPORT("extism:host/env", "length") uint64_t ext_length(uint64_t off);
IMPORT("extism:host/env", "load_u64") uint64_t ext_load_u64(uint64_t off);
IMPORT("extism:host/env", "alloc") uint64_t ext_alloc(uint64_t n);
IMPORT("extism:host/env", "store_u64") void ext_store_u64(uint64_t off, uint64_t v);
IMPORT("extism:host/env", "store_u8") void ext_store_u8(uint64_t off, uint32_t v);

// Failure kinds returned to Go (plugins/samtools/wasm/samfmt.go maps them
// back to the Go packages' sentinel errors).
enum {
	K_OK,
	K_NOT_BGZF,
	K_BGZF_CORRUPT,
	K_BGZF_TRUNCATED,
	K_BAM_CORRUPT,
	K_BAM_TRUNCATED,
	K_IO,     // a WASI read or write failed: the host knows why
	K_NOMEM,
	K_ARGS,   // the plan from Go is malformed: a bug
};

static int ekind;
static char emsg[1024];

__attribute__((format(printf, 2, 3))) static int fail(int kind, const char *fmt, ...) {
	if (ekind) return -1;
	ekind = kind;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(emsg, sizeof emsg, fmt, ap);
	va_end(ap);
	return -1;
}

// prefix puts context in front of the message of the failure already set.
__attribute__((format(printf, 1, 2))) static void prefix(const char *fmt, ...) {
	char p[256], m[sizeof emsg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p, sizeof p, fmt, ap);
	va_end(ap);
	snprintf(m, sizeof m, "%s%s", p, emsg);
	memcpy(emsg, m, sizeof emsg);
}

static inline uint32_t le32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint16_t le16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

// quote writes s as Go's %q does for ASCII (other bytes as \xNN), so
// messages match the Go path's.
static void quote(char *dst, size_t cap, const uint8_t *s, size_t n) {
	size_t o = 0;
	static const char hex[] = "0123456789abcdef";
	if (cap < 8) { dst[0] = 0; return; }
	dst[o++] = '"';
	for (size_t i = 0; i < n && o + 6 < cap; i++) {
		uint8_t c = s[i];
		if (c == '"' || c == '\\') { dst[o++] = '\\'; dst[o++] = c; }
		else if (c >= 0x20 && c < 0x7f) dst[o++] = c;
		else if (c == '\n') { dst[o++] = '\\'; dst[o++] = 'n'; }
		else if (c == '\t') { dst[o++] = '\\'; dst[o++] = 't'; }
		else if (c == '\r') { dst[o++] = '\\'; dst[o++] = 'r'; }
		else { dst[o++] = '\\'; dst[o++] = 'x'; dst[o++] = hex[c >> 4]; dst[o++] = hex[c & 15]; }
	}
	dst[o++] = '"';
	dst[o] = 0;
}

// ---- files ----

// open_file opens path (NUL-terminated, n bytes) read-only.
static int open_file(const char *path, size_t n, __wasi_fd_t *fd) {
	// The sources live under one preopened directory: find the one whose
	// name is a prefix of path (fds from 3 on, as WASI numbers preopens).
	for (__wasi_fd_t pre = 3; pre < 64; pre++) {
		__wasi_prestat_t ps;
		if (__wasi_fd_prestat_get(pre, &ps) != 0) break;
		size_t dl = ps.u.dir.pr_name_len;
		char dir[256];
		if (dl >= sizeof dir || __wasi_fd_prestat_dir_name(pre, (uint8_t *)dir, dl) != 0) continue;
		while (dl > 1 && dir[dl - 1] == '/') dl--;
		if (n <= dl || memcmp(path, dir, dl) != 0 || path[dl] != '/') continue;
		const char *rel = path + dl + 1;
		return __wasi_path_open(pre, 0, rel, 0, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_FILESTAT_GET, 0, 0, fd) == 0 ? 0 : -1;
	}
	return -1;
}

// pread_full reads up to n bytes at off; fewer only at the end of the file.
static int64_t pread_full(__wasi_fd_t fd, uint8_t *p, size_t n, int64_t off) {
	size_t got = 0;
	while (got < n) {
		__wasi_iovec_t iov = {p + got, n - got};
		__wasi_size_t k;
		if (__wasi_fd_pread(fd, &iov, 1, (__wasi_filesize_t)(off + got), &k) != 0) return -1;
		if (k == 0) break;
		got += k;
	}
	return (int64_t)got;
}

// ---- output ----

static uint8_t *out;
static size_t outlen, outcap;

static int flush(void) {
	size_t o = 0;
	while (o < outlen) {
		__wasi_ciovec_t iov = {out + o, outlen - o};
		__wasi_size_t k;
		if (__wasi_fd_write(1, &iov, 1, &k) != 0 || k == 0) {
			outlen = 0;
			return fail(K_IO, "writing the response failed");
		}
		o += k;
	}
	outlen = 0;
	return 0;
}

// room makes n bytes of output space available.
static int room(size_t n) {
	if (outlen + n <= outcap) return 0;
	if (flush()) return -1;
	if (n > outcap) {
		uint8_t *b = realloc(out, n);
		if (!b) return fail(K_NOMEM, "out of memory for a %zu-byte SAM line", n);
		out = b;
		outcap = n;
	}
	return 0;
}

// ---- BGZF blocks (as plugins/internal/bgzf.Reader.Block) ----

#define MAX_BLOCK 65536
#define MAX_RECORD (1 << 28)

typedef struct {
	__wasi_fd_t raw, view;
	int64_t size;
	uint8_t *blk;      // the current block's inflated data
	uint32_t blen, bpos;
	int64_t coff;      // file offset of the current block
	int64_t next;      // file offset of the next block
	int eof;           // no block follows
	uint8_t *tmp;      // a record that crosses blocks, gathered
	size_t tcap;
} reader;

static int bgzf_fail(int kind, int64_t off, const char *detail) {
	const char *k = kind == K_NOT_BGZF ? "bgzf: not BGZF data" : kind == K_BGZF_CORRUPT ? "bgzf: corrupt block" : "bgzf: truncated file";
	return fail(kind, "%s at offset %lld: %s", k, (long long)off, detail);
}

// block_size finds the BC subfield in a gzip extra field (internal/bgzfblock).
static int block_size(const uint8_t *x, size_t n) {
	size_t i = 0;
	while (i + 4 <= n) {
		size_t sl = le16(x + i + 2);
		if (x[i] == 'B' && x[i + 1] == 'C' && sl == 2 && i + 6 <= n) return le16(x + i + 4) + 1;
		i += 4 + sl;
	}
	return -1;
}

// load reads the block at off into r->blk: 0 loaded, 1 end of file, -1 failure.
static int load(reader *r, int64_t off) {
	char d[96];
	if (off >= r->size) return 1;
	uint8_t h[18];
	int64_t n = pread_full(r->raw, h, sizeof h, off);
	if (n < 0) return fail(K_IO, "bgzf: read at offset %lld failed", (long long)off);
	int gz = n >= 4 && h[0] == 0x1f && h[1] == 0x8b && h[2] == 8;
	if (n < 18) {
		if (n >= 4 && !gz) return bgzf_fail(K_NOT_BGZF, off, "no gzip magic");
		snprintf(d, sizeof d, "only %lld bytes left for a block header", (long long)n);
		return bgzf_fail(K_BGZF_TRUNCATED, off, d);
	}
	if (!gz) return bgzf_fail(K_NOT_BGZF, off, "no gzip magic");
	if (!(h[3] & 4)) return bgzf_fail(K_NOT_BGZF, off, "gzip member without extra field (plain gzip, not BGZF)");
	int xlen = le16(h + 10), bsize;
	if (xlen == 6 && h[12] == 'B' && h[13] == 'C' && h[14] == 2 && h[15] == 0) {
		bsize = le16(h + 16) + 1;
	} else {
		static uint8_t x[65536 + 12];
		int64_t k = pread_full(r->raw, x, 12 + (size_t)xlen, off);
		if (k < 0) return fail(K_IO, "bgzf: read at offset %lld failed", (long long)off);
		if (k < 12 + xlen) return bgzf_fail(K_BGZF_TRUNCATED, off, "file ends inside a block header");
		bsize = block_size(x + 12, (size_t)xlen);
		if (bsize < 0) return bgzf_fail(K_NOT_BGZF, off, "no BC subfield (plain gzip, not BGZF)");
	}
	if (bsize < 12 + xlen + 8) {
		snprintf(d, sizeof d, "invalid block length %d", bsize);
		return bgzf_fail(K_BGZF_CORRUPT, off, d);
	}
	if (off + bsize > r->size) {
		snprintf(d, sizeof d, "block needs %d bytes, file has %lld", bsize, (long long)(r->size - off));
		return bgzf_fail(K_BGZF_TRUNCATED, off, d);
	}
	// The host inflates and checks the CRC; a failure reads as EIO and the
	// host keeps the reason.
	__wasi_iovec_t iov = {r->blk, MAX_BLOCK};
	__wasi_size_t k;
	if (__wasi_fd_pread(r->view, &iov, 1, (__wasi_filesize_t)off, &k) != 0)
		return fail(K_IO, "bgzf: corrupt block at offset %lld", (long long)off);
	r->blen = k;
	r->bpos = 0;
	r->coff = off;
	r->next = off + bsize;
	return 0;
}

// tell is the virtual offset of the next unread byte; the end of a block is
// the start of the next, as htslib's bgzf_tell has it.
static inline uint64_t tell(const reader *r) {
	if (r->bpos < r->blen) return (uint64_t)r->coff << 16 | r->bpos;
	return (uint64_t)r->next << 16;
}

// advance loads the next non-empty block: 0 loaded, 1 end, -1 failure.
static int advance(reader *r) {
	for (;;) {
		if (r->eof) return 1;
		int rc = load(r, r->next);
		if (rc == 1) { r->eof = 1; r->blen = r->bpos = 0; return 1; }
		if (rc < 0) return -1;
		if (r->blen > 0) return 0;
	}
}

// take consumes n bytes and points *p at them. It returns 0, or 1 when the
// data ends first (*got: bytes that were left, consumed too), or -1.
static int take(reader *r, size_t n, const uint8_t **p, size_t *got) {
	if (r->blen - r->bpos >= n) {
		*p = r->blk + r->bpos;
		r->bpos += n;
		return 0;
	}
	size_t have = 0;
	for (;;) {
		size_t k = r->blen - r->bpos;
		if (k > n - have) k = n - have;
		if (r->tcap < have + k) {
			// Grown as the bytes arrive, not to n at once: a corrupt
			// block_size near the end of a file is a truncation, as
			// for the Go reader, not a huge allocation.
			size_t c = r->tcap ? r->tcap : 4096;
			while (c < have + k) c *= 2;
			if (c > n) c = n;
			uint8_t *t = realloc(r->tmp, c);
			if (!t) return fail(K_NOMEM, "out of memory for a %zu-byte record", n);
			r->tmp = t;
			r->tcap = c;
		}
		memcpy(r->tmp + have, r->blk + r->bpos, k);
		r->bpos += k;
		have += k;
		if (have == n) break;
		int rc = advance(r);
		if (rc < 0) return -1;
		if (rc == 1) { *got = have; return 1; }
	}
	*p = r->tmp;
	return 0;
}

static int seek(reader *r, uint64_t voff) {
	int64_t coff = (int64_t)(voff >> 16);
	uint32_t uoff = voff & 0xffff;
	r->eof = 0;
	r->blen = r->bpos = 0;
	r->next = coff;
	int rc = load(r, coff);
	if (rc == 1) {
		if (uoff != 0) return fail(K_BAM_CORRUPT, "bam: corrupt data: virtual offset %llu points past the end of the file", (unsigned long long)voff);
		r->eof = 1;
		return 0;
	}
	if (rc < 0) return -1;
	if (uoff > r->blen) return fail(K_BAM_CORRUPT, "bam: corrupt data: virtual offset %llu points beyond block size %u", (unsigned long long)voff, r->blen);
	r->bpos = uoff;
	return 0;
}

// ---- reference names (from the plan) ----

typedef struct { const char *s; size_t n; } name;
static name *refs;
static int32_t nref;

// ---- records (as plugins/internal/bam.Record) ----

typedef struct {
	const uint8_t *d;  // after block_size
	size_t len;
	int32_t ref, pos, mref, mpos, tlen;
	uint8_t mapq;
	uint16_t flag;
	uint32_t ncig, lseq, namelen;
	size_t cig, seq, aux;
	int64_t end;
} record;

static const uint8_t cigar_type[16] = {3, 1, 2, 2, 1, 0, 0, 3, 3, 0};
static uint8_t *cgbuf;
static size_t cgcap;

static char qname[600];
static const char *rec_name(const record *c) {
	quote(qname, sizeof qname, c->d + 32, c->namelen);
	return qname;
}

// skip_aux returns the size of one tag's type and value, or 0 if malformed.
static size_t skip_aux(const uint8_t *b, size_t n) {
	if (n < 1) return 0;
	switch (b[0]) {
	case 'A': case 'c': case 'C': return n >= 2 ? 2 : 0;
	case 's': case 'S': return n >= 3 ? 3 : 0;
	case 'i': case 'I': case 'f': return n >= 5 ? 5 : 0;
	case 'd': return n >= 9 ? 9 : 0;
	case 'Z': case 'H': {
		const uint8_t *z = memchr(b + 1, 0, n - 1);
		return z ? (size_t)(z - b) + 1 : 0;
	}
	case 'B': {
		if (n < 6) return 0;
		size_t sz;
		switch (b[1]) {
		case 'c': case 'C': case 'A': sz = 1; break;
		case 's': case 'S': sz = 2; break;
		case 'i': case 'I': case 'f': sz = 4; break;
		default: return 0;
		}
		uint64_t k = le32(b + 2);
		if (k * sz > n - 6) return 0;
		return 6 + (size_t)k * sz;
	}
	}
	return 0;
}

// move_cg restores a CIGAR of more than 65535 operations kept in the CG tag
// (htslib's bam_read1).
static int move_cg(record *c) {
	uint32_t c0 = le32(c->d + c->cig);
	if ((c0 & 0xf) != 4 || (c0 >> 4) != c->lseq) return 0;
	const uint8_t *aux = c->d + c->aux;
	size_t an = c->len - c->aux, p = 0;
	while (p + 3 <= an) {
		if (aux[p] == 'C' && aux[p + 1] == 'G') break;
		size_t k = skip_aux(aux + p + 2, an - p - 2);
		if (!k) return fail(K_BAM_CORRUPT, "bam: corrupt data: corrupted aux data for read %s", rec_name(c));
		p += 2 + k;
	}
	if (p + 3 > an) return 0;
	const uint8_t *t = aux + p + 2;
	size_t tn = an - p - 2;
	if (tn < 6 || t[0] != 'B' || (t[1] != 'I' && t[1] != 'i')) return 0;
	uint32_t n = le32(t + 2);
	if (n < c->ncig || n >= (1u << 29)) return 0;
	if ((uint64_t)n * 4 > tn - 6) return fail(K_BAM_CORRUPT, "bam: corrupt data: CG tag longer than the record for read %s", rec_name(c));
	size_t tag = c->aux + p, tagend = tag + 8 + 4 * (size_t)n;
	size_t len = c->len - 4 * (size_t)c->ncig + 4 * (size_t)n - (tagend - tag);
	if (cgcap < len) {
		uint8_t *b = realloc(cgbuf, len);
		if (!b) return fail(K_NOMEM, "out of memory for a CG tag");
		cgbuf = b;
		cgcap = len;
	}
	uint8_t *s = cgbuf;
	size_t o = 0;
	memcpy(s, c->d, c->cig); o += c->cig;
	memcpy(s + o, t + 6, 4 * (size_t)n); o += 4 * (size_t)n;
	memcpy(s + o, c->d + c->seq, tag - c->seq); o += tag - c->seq;
	memcpy(s + o, c->d + tagend, c->len - tagend); o += c->len - tagend;
	s[12] = s[13] = 0;
	size_t shift = 4 * (size_t)n - 4 * (size_t)c->ncig;
	c->d = s;
	c->len = o;
	c->ncig = n;
	c->seq += shift;
	c->aux += shift;
	return 0;
}

static int decode(record *c) {
	const uint8_t *d = c->d;
	c->ref = (int32_t)le32(d);
	c->pos = (int32_t)le32(d + 4);
	uint32_t lname = d[8];
	c->mapq = d[9];
	c->ncig = le16(d + 12);
	c->flag = le16(d + 14);
	int32_t lseq = (int32_t)le32(d + 16);
	c->mref = (int32_t)le32(d + 20);
	c->mpos = (int32_t)le32(d + 24);
	c->tlen = (int32_t)le32(d + 28);
	if (lname < 1) return fail(K_BAM_CORRUPT, "bam: corrupt data: read name length 0");
	if (lseq < 0) return fail(K_BAM_CORRUPT, "bam: corrupt data: negative sequence length %d", lseq);
	c->lseq = (uint32_t)lseq;
	uint64_t need = 32 + (uint64_t)lname + 4 * (uint64_t)c->ncig + ((uint64_t)c->lseq + 1) / 2 + c->lseq;
	if (need > c->len) return fail(K_BAM_CORRUPT, "bam: corrupt data: fields need %llu bytes, record has %zu", (unsigned long long)need, c->len);
	c->namelen = d[32 + lname - 1] == 0 ? lname - 1 : lname;
	c->cig = 32 + lname;
	c->seq = c->cig + 4 * (size_t)c->ncig;
	c->aux = c->seq + (c->lseq + 1) / 2 + c->lseq;
	if (c->ncig > 0 && c->ref >= 0 && c->pos >= 0 && move_cg(c)) return -1;
	int64_t rlen = 0;
	if (c->ncig > 0) {
		int64_t qlen = 0;
		const uint8_t *g = c->d + c->cig;
		for (uint32_t i = 0; i < c->ncig; i++) {
			uint32_t v = le32(g + 4 * i);
			uint8_t t = cigar_type[v & 0xf];
			if (t & 1) qlen += v >> 4;
			if (t & 2) rlen += v >> 4;
		}
		if (c->lseq > 0 && !(c->flag & 4) && qlen != (int64_t)c->lseq)
			return fail(K_BAM_CORRUPT, "bam: corrupt data: CIGAR and query sequence lengths differ for %s", rec_name(c));
	}
	if ((c->flag & 4) || rlen == 0) rlen = 1;
	c->end = (int64_t)c->pos + rlen;
	return 0;
}

// next reads one record: 0, 1 at the end of the data, -1.
static int next(reader *r, record *c) {
	uint64_t voff = tell(r);
	const uint8_t *p;
	size_t got = 0;
	int rc = take(r, 4, &p, &got);
	if (rc < 0) { prefix("record at virtual offset %llu: ", (unsigned long long)voff); return -1; }
	if (rc == 1) {
		if (got > 0) return fail(K_BAM_TRUNCATED, "bam: truncated file: %zu stray bytes at the end of the data (virtual offset %llu)", got, (unsigned long long)voff);
		return 1;
	}
	int32_t bs = (int32_t)le32(p);
	if (bs < 32 || bs > MAX_RECORD) return fail(K_BAM_CORRUPT, "bam: corrupt data: record at virtual offset %llu has invalid block size %d", (unsigned long long)voff, bs);
	rc = take(r, (size_t)bs, &p, &got);
	if (rc < 0) { prefix("record at virtual offset %llu: ", (unsigned long long)voff); return -1; }
	if (rc == 1) return fail(K_BAM_TRUNCATED, "bam: truncated file: file ends inside the record at virtual offset %llu", (unsigned long long)voff);
	c->d = p;
	c->len = (size_t)bs;
	if (decode(c)) { prefix("record at virtual offset %llu: ", (unsigned long long)voff); return -1; }
	return 0;
}

// ---- SAM (as plugins/internal/bam.AppendSAM) ----

static const char nt16[] = "=ACMGRSVTWYHKDBN";
static const char cigar_chars[] = "MIDNSHP=XB??????";

static const char digits2[] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

// putu writes v in decimal, two digits per step: every loop iteration is
// also a preemption test in the instrumented module.
static inline char *putu(char *o, uint64_t v) {
	char b[20];
	int i = 20;
	while (v >= 100) {
		uint64_t q = v / 100;
		i -= 2;
		memcpy(b + i, digits2 + 2 * (v - 100 * q), 2);
		v = q;
	}
	if (v >= 10) { i -= 2; memcpy(b + i, digits2 + 2 * v, 2); }
	else b[--i] = (char)('0' + v);
	memcpy(o, b + i, 20 - i);
	return o + 20 - i;
}

// putseq writes n bases packed two per byte (4-bit codes), 32 per step.
static char *putseq(char *restrict o, const uint8_t *restrict sq, uint32_t n) {
	const v128_t tab = wasm_v128_load(nt16);
	const v128_t lo4 = wasm_i8x16_splat(15);
	uint32_t h = n / 2, i = 0;
	for (; i + 16 <= h; i += 16) {
		v128_t b = wasm_v128_load(sq + i);
		v128_t hi = wasm_i8x16_swizzle(tab, wasm_u8x16_shr(b, 4));
		v128_t lo = wasm_i8x16_swizzle(tab, wasm_v128_and(b, lo4));
		wasm_v128_store(o + 2 * i, wasm_i8x16_shuffle(hi, lo, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23));
		wasm_v128_store(o + 2 * i + 16, wasm_i8x16_shuffle(hi, lo, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31));
	}
	for (; i < h; i++) { o[2 * i] = nt16[sq[i] >> 4]; o[2 * i + 1] = nt16[sq[i] & 15]; }
	o += 2 * h;
	if (n & 1) *o++ = nt16[sq[h] >> 4];
	return o;
}

// putqual writes n Phred qualities as ASCII (+33), 16 per step.
static char *putqual(char *restrict o, const uint8_t *restrict q, uint32_t n) {
	const v128_t k = wasm_i8x16_splat(33);
	uint32_t i = 0;
	for (; i + 16 <= n; i += 16) wasm_v128_store(o + i, wasm_i8x16_add(wasm_v128_load(q + i), k));
	for (; i < n; i++) o[i] = (char)(q[i] + 33);
	return o + n;
}

static inline char *puti(char *o, int64_t v) {
	if (v < 0) { *o++ = '-'; return putu(o, (uint64_t)0 - (uint64_t)v); }
	return putu(o, (uint64_t)v);
}

// putg is C's %g (the Go path's appendG).
static char *putg(char *o, double d) { return o + sprintf(o, "%g", d); }

// putf formats a float tag as htslib's kputd does (the Go path's appendFloat).
static char *putf(char *o, double d) {
	if (d == 0) { if (signbit(d)) *o++ = '-'; *o++ = '0'; return o; }
	if (d < 0) { *o++ = '-'; d = -d; }
	if (!(d >= 0.0001 && d <= 999999)) return putg(o, d);
	uint64_t i = (uint64_t)(d * 1e10);
	if (d < 0.001) i += 5; else if (d < 0.01) i += 50; else if (d < 0.1) i += 500;
	else if (d < 1) i += 5000; else if (d < 10) i += 50000; else if (d < 100) i += 500000;
	else if (d < 1000) i += 5000000; else if (d < 10000) i += 50000000;
	else if (d < 100000) i += 500000000; else i += 5000000000ULL;
	char dg[20], s[24];
	int n = 0, sl = 0;
	for (uint64_t v = i;;) { dg[19 - n] = '0' + v % 10; n++; v /= 10; if (!v) break; }
	const char *ds = dg + 20 - n;
	if (n <= 10) {
		s[sl++] = '0'; s[sl++] = '.';
		for (int k = 0; k < 10 - n; k++) s[sl++] = '0';
		int m = n < 6 ? n : 6;
		memcpy(s + sl, ds, m); sl += m;
	} else {
		int ip = n - 10;
		memcpy(s, ds, ip); sl = ip;
		if (ip < 6) { s[sl++] = '.'; memcpy(s + sl, ds + ip, 6 - ip); sl += 6 - ip; } else sl = 6;
	}
	if (memchr(s, '.', sl)) { while (s[sl - 1] == '0') sl--; if (s[sl - 1] == '.') sl--; }
	memcpy(o, s, sl);
	return o + sl;
}

static inline float f32(const uint8_t *p) { float f; memcpy(&f, p, 4); return f; }

// numsize is the size of one number of aux type t (c C s S i I f), 0 for
// any other type.
static inline size_t numsize(uint8_t t) {
	switch (t) {
	case 'c': case 'C': return 1;
	case 's': case 'S': return 2;
	case 'i': case 'I': case 'f': return 4;
	}
	return 0;
}

// putnum formats the number of aux type t at p (numsize(t) bytes).
static inline char *putnum(char *o, uint8_t t, const uint8_t *p) {
	switch (t) {
	case 'c': return puti(o, (int8_t)p[0]);
	case 'C': return putu(o, p[0]);
	case 's': return puti(o, (int16_t)le16(p));
	case 'S': return putu(o, le16(p));
	case 'i': return puti(o, (int32_t)le32(p));
	case 'I': return putu(o, le32(p));
	}
	return putf(o, f32(p));
}

static int format(const record *c) {
	const uint8_t *d = c->d;
	if (c->ref >= nref || c->mref >= nref || c->ref < -1 || c->mref < -1)
		return fail(K_BAM_CORRUPT, "bam: corrupt data: read %s refers to reference %d/%d, header has %d", rec_name(c), c->ref, c->mref, nref);
	size_t auxn = c->len - c->aux;
	size_t need = 256 + c->namelen + (c->ref >= 0 ? refs[c->ref].n : 0) + (c->mref >= 0 ? refs[c->mref].n : 0) +
		11 * (size_t)c->ncig + 2 * (size_t)c->lseq + 8 * auxn;
	if (room(need)) return -1;
	char *o = (char *)out + outlen;
	memcpy(o, d + 32, c->namelen); o += c->namelen;
	*o++ = '\t';
	o = putu(o, c->flag); *o++ = '\t';
	if (c->ref >= 0) { memcpy(o, refs[c->ref].s, refs[c->ref].n); o += refs[c->ref].n; } else *o++ = '*';
	*o++ = '\t';
	o = puti(o, (int64_t)c->pos + 1); *o++ = '\t';
	o = putu(o, c->mapq); *o++ = '\t';
	if (c->ncig) {
		const uint8_t *g = d + c->cig;
		for (uint32_t i = 0; i < c->ncig; i++) { uint32_t v = le32(g + 4 * i); o = putu(o, v >> 4); *o++ = cigar_chars[v & 15]; }
	} else *o++ = '*';
	*o++ = '\t';
	if (c->mref < 0) *o++ = '*';
	else if (c->mref == c->ref) *o++ = '=';
	else { memcpy(o, refs[c->mref].s, refs[c->mref].n); o += refs[c->mref].n; }
	*o++ = '\t';
	o = puti(o, (int64_t)c->mpos + 1); *o++ = '\t';
	o = puti(o, c->tlen); *o++ = '\t';
	if (c->lseq) {
		const uint8_t *sq = d + c->seq, *ql = sq + (c->lseq + 1) / 2;
		o = putseq(o, sq, c->lseq);
		*o++ = '\t';
		if (ql[0] == 0xff) *o++ = '*';
		else o = putqual(o, ql, c->lseq);
	} else { *o++ = '*'; *o++ = '\t'; *o++ = '*'; }
	const uint8_t *a = d + c->aux, *end = d + c->len;
	while (end - a >= 4) {
		uint8_t t = a[2];
		const uint8_t *v = a + 3;
		size_t left = end - v;
		*o++ = '\t'; *o++ = a[0]; *o++ = a[1]; *o++ = ':';
		switch (t) {
		case 'A': *o++ = 'A'; *o++ = ':'; *o++ = v[0]; a = v + 1; continue;
		case 'c': case 'C': case 's': case 'S': case 'i': case 'I': case 'f': {
			size_t sz = numsize(t);
			if (left < sz) goto bad;
			*o++ = t == 'f' ? 'f' : 'i'; *o++ = ':';
			o = putnum(o, t, v);
			a = v + sz; continue;
		}
		case 'd': {
			if (left < 8) goto bad;
			double x;
			memcpy(&x, v, 8);
			*o++ = 'd'; *o++ = ':';
			o = putg(o, x);
			a = v + 8; continue;
		}
		case 'Z': case 'H': {
			const uint8_t *z = memchr(v, 0, left);
			if (!z) goto bad;
			*o++ = t; *o++ = ':';
			memcpy(o, v, z - v); o += z - v;
			a = z + 1; continue;
		}
		case 'B': {
			if (left < 5) goto bad;
			uint8_t sub = v[0];
			size_t sz = numsize(sub);
			if (!sz) goto bad;
			uint64_t n = le32(v + 1);
			const uint8_t *e = v + 5;
			if ((uint64_t)(end - e) / sz < n) goto bad;
			*o++ = 'B'; *o++ = ':'; *o++ = sub;
			for (uint64_t k = 0; k < n; k++, e += sz) {
				*o++ = ',';
				o = putnum(o, sub, e);
			}
			a = e; continue;
		}
		default:
			goto bad;
		}
	}
	*o++ = '\n';
	outlen = (uint8_t *)o - out;
	return 0;
bad:
	return fail(K_BAM_CORRUPT, "bam: corrupt data: corrupted aux data for read %s", rec_name(c));
}

// ---- the plan ----

typedef struct { uint64_t beg, end; } chunk;

static uint64_t *args;
static size_t nargs, argi;

static int arg(uint64_t *v) {
	if (argi >= nargs) return fail(K_ARGS, "samfmt: plan cut short");
	*v = args[argi++];
	return 0;
}

static int count_only, min_mapq;
static uint16_t require_flags, exclude_flags;
static uint64_t count;

static int emit(const record *c) {
	if ((int)c->mapq < min_mapq || (c->flag & require_flags) != require_flags || (c->flag & exclude_flags)) return 0;
	if (count_only) { count++; return 0; }
	return format(c);
}

// all outputs every record from the current position to the end.
static int all(reader *r) {
	record c;
	for (;;) {
		int rc = next(r, &c);
		if (rc) return rc < 0 ? -1 : 0;
		if (emit(&c)) return -1;
	}
}

// span outputs the records of one region from its index chunks, following
// htslib's iterator (the Go path's viewer.span).
static int span(reader *r, int32_t tid, int64_t beg, int64_t end, const chunk *ch, uint64_t n) {
	record c;
	int64_t i = -1;
	uint64_t cur = 0;
	for (;;) {
		if (cur == 0 || cur >= ch[i].end) {
			if (i == (int64_t)n - 1) return 0;
			if (i < 0 || ch[i].end != ch[i + 1].beg) {
				if (seek(r, ch[i + 1].beg)) return -1;
				cur = tell(r);
			}
			i++;
		}
		int rc = next(r, &c);
		if (rc) return rc < 0 ? -1 : 0;
		cur = tell(r);
		if (c.ref != tid || (int64_t)c.pos >= end) return 0;
		if (c.end > beg && end > (int64_t)c.pos && emit(&c)) return -1;
	}
}

static int run(void) {
	uint64_t flags, req, exc, mq, plen;
	if (arg(&flags) || arg(&req) || arg(&exc) || arg(&mq) || arg(&plen)) return -1;
	count_only = flags & 1;
	require_flags = (uint16_t)req;
	exclude_flags = (uint16_t)exc;
	min_mapq = (int)mq;
	size_t words = (plen + 7) / 8;
	if (plen > 4000 || argi + words > nargs) return fail(K_ARGS, "samfmt: bad path length %llu", (unsigned long long)plen);
	// The file, then its inflated view: the same path with the host's
	// suffix (path_open takes NUL-terminated names).
	char path[4008];
	memcpy(path, args + argi, plen);
	path[plen] = 0;
	argi += words;
	static uint8_t blk[MAX_BLOCK];
	reader r = {.blk = blk};
	int rc = -1;
	__wasi_filestat_t st;
	int bad = open_file(path, plen, &r.raw);
	memcpy(path + plen, ".bgzf", 6);
	if (bad || open_file(path, plen + 5, &r.view) || __wasi_fd_filestat_get(r.raw, &st)) {
		fail(K_IO, "samfmt: cannot open %.*s", (int)plen, path);
		goto done;
	}
	r.size = (int64_t)st.size;
	// Go has read the header: the plan holds where the records start and
	// the reference names.
	uint64_t start, n, nspans;
	if (arg(&start) || arg(&n)) goto done;
	if (n > (1 << 24)) { fail(K_ARGS, "samfmt: bad reference list"); goto done; }
	refs = calloc(n ? n : 1, sizeof *refs);
	if (!refs) { fail(K_NOMEM, "out of memory for %llu references", (unsigned long long)n); goto done; }
	// n NUL-terminated names, padded to whole words.
	const char *names = (const char *)(args + argi), *s = names, *end = (const char *)(args + nargs);
	for (uint64_t i = 0; i < n; i++) {
		const char *z = memchr(s, 0, end - s);
		if (!z) { fail(K_ARGS, "samfmt: bad reference list"); goto done; }
		refs[i].s = s;
		refs[i].n = z - s;
		s = z + 1;
	}
	nref = (int32_t)n;
	argi += (size_t)(s - names + 7) / 8;
	if (seek(&r, start) || arg(&nspans)) goto done;
	if (nspans == UINT64_MAX) {
		rc = all(&r);
		goto done;
	}
	for (uint64_t s = 0; s < nspans; s++) {
		uint64_t special, tid, beg, end, off, nch;
		if (arg(&special) || arg(&tid) || arg(&beg) || arg(&end) || arg(&off) || arg(&nch)) goto done;
		if (special) {
			if (off != 0 && seek(&r, off)) goto done;
			if (all(&r)) goto done;
			continue;
		}
		if (nch > (nargs - argi) / 2) { fail(K_ARGS, "samfmt: plan cut short"); goto done; }
		const chunk *ch = (const chunk *)(args + argi);
		argi += 2 * nch;
		if (span(&r, (int32_t)tid, (int64_t)beg, (int64_t)end, ch, nch)) goto done;
	}
	rc = 0;
done:
	if (r.raw) (void)!__wasi_fd_close(r.raw);
	if (r.view) (void)!__wasi_fd_close(r.view);
	free(r.tmp);
	return rc;
}

// view runs a plan (Extism memory at plan_off, little-endian u64 words; see
// plugins/samtools/wasm/samfmt.go, which writes it) and returns the Extism
// offset of the result: count, failure kind, then the message.
EXPORT("view") uint64_t view(uint64_t plan_off) {
	ekind = 0;
	emsg[0] = 0;
	count = 0;
	outlen = 0;
	argi = 0;
	if (!out) {
		outcap = 256 << 10;
		out = malloc(outcap);
	}
	uint64_t len = ext_length(plan_off);
	nargs = len / 8;
	args = malloc(nargs ? nargs * 8 : 8);
	if (!out || !args) {
		fail(K_NOMEM, "out of memory");
	} else {
		for (size_t i = 0; i < nargs; i++) args[i] = ext_load_u64(plan_off + 8 * i);
		run();
		// What was formatted goes out even after a failure, as samtools
		// prints the records it decoded before it fails.
		flush();
	}
	free(refs); // the names point into args
	refs = NULL;
	free(args);
	args = NULL;
	nref = 0;
	size_t ml = ekind ? strlen(emsg) : 0;
	uint64_t res = ext_alloc(16 + ml);
	ext_store_u64(res, count);
	ext_store_u64(res + 8, (uint64_t)ekind);
	for (size_t i = 0; i < ml; i++) ext_store_u8(res + 16 + i, (uint8_t)emsg[i]);
	return res;
}
