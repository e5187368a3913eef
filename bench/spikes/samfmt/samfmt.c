// Prototype: raw (inflated) BAM stream on stdin -> SAM records on stdout,
// formatted like htslib's sam_format1. Measures what C compiled to Wasm
// costs for the record path of samtools view.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <math.h>

static uint8_t *in;
static size_t inlen, inpos;

static void fill(size_t need) {
	if (inlen - inpos >= need) return;
	memmove(in, in + inpos, inlen - inpos);
	inlen -= inpos;
	inpos = 0;
	while (inlen < need) {
		ssize_t n = read(0, in + inlen, (1 << 24) - inlen);
		if (n <= 0) break;
		inlen += n;
	}
}

static uint8_t out[1 << 17];
static size_t outlen;
static void flush(void) {
	size_t o = 0;
	while (o < outlen) {
		ssize_t n = write(1, out + o, outlen - o);
		if (n <= 0) exit(1);
		o += n;
	}
	outlen = 0;
}

static inline uint32_t le32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint16_t le16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

static inline char *putu(char *o, uint64_t v) {
	char b[20];
	int i = 20;
	do { b[--i] = '0' + v % 10; v /= 10; } while (v);
	memcpy(o, b + i, 20 - i);
	return o + 20 - i;
}
static inline char *puti(char *o, int64_t v) {
	if (v < 0) { *o++ = '-'; return putu(o, (uint64_t)-v); }
	return putu(o, (uint64_t)v);
}

static char *putd(char *o, double d) {
	if (d == 0) { if (signbit(d)) *o++ = '-'; *o++ = '0'; return o; }
	if (d < 0) { *o++ = '-'; d = -d; }
	if (!(d >= 0.0001 && d <= 999999)) return o + sprintf(o, "%g", d);
	uint64_t i = (uint64_t)(d * 1e10);
	if (d < 0.001) i += 5; else if (d < 0.01) i += 50; else if (d < 0.1) i += 500;
	else if (d < 1) i += 5000; else if (d < 10) i += 50000; else if (d < 100) i += 500000;
	else if (d < 1000) i += 5000000; else if (d < 10000) i += 50000000;
	else if (d < 100000) i += 500000000; else i += 5000000000ULL;
	char dg[20]; int n = 0;
	for (uint64_t v = i;;) { dg[19 - n] = '0' + v % 10; n++; v /= 10; if (!v) break; }
	char *ds = dg + 20 - n, s[24]; int sl = 0;
	if (n <= 10) {
		s[sl++] = '0'; s[sl++] = '.';
		for (int k = 0; k < 10 - n; k++) s[sl++] = '0';
		int m = n < 6 ? n : 6; memcpy(s + sl, ds, m); sl += m;
	} else {
		int ip = n - 10; memcpy(s, ds, ip); sl = ip;
		if (ip < 6) { s[sl++] = '.'; memcpy(s + sl, ds + ip, 6 - ip); sl += 6 - ip; } else sl = 6;
	}
	if (memchr(s, '.', sl)) { while (s[sl - 1] == '0') sl--; if (s[sl - 1] == '.') sl--; }
	memcpy(o, s, sl);
	return o + sl;
}

static const char nt16[] = "=ACMGRSVTWYHKDBN";
static const char cig[] = "MIDNSHP=XB";
static uint16_t pair16[256];

int main(void) {
	in = malloc(1 << 24);
	for (int i = 0; i < 256; i++) pair16[i] = (uint16_t)nt16[i >> 4] | (uint16_t)nt16[i & 15] << 8;
	fill(12);
	inpos += 4;
	uint32_t lt = le32(in + inpos); inpos += 4;
	fill(lt + 4); inpos += lt;
	uint32_t nref = le32(in + inpos); inpos += 4;
	char **names = calloc(nref, sizeof *names);
	size_t *nlen = calloc(nref, sizeof *nlen);
	for (uint32_t r = 0; r < nref; r++) {
		fill(4); uint32_t ln = le32(in + inpos); inpos += 4;
		fill(ln + 4); names[r] = strndup((char *)in + inpos, ln); nlen[r] = strlen(names[r]); inpos += ln + 4;
	}
	uint64_t nrec = 0;
	for (;;) {
		fill(4);
		if (inlen - inpos < 4) break;
		uint32_t bs = le32(in + inpos);
		fill(4 + bs);
		const uint8_t *d = in + inpos + 4;
		inpos += 4 + bs;
		int32_t ref = (int32_t)le32(d), pos = (int32_t)le32(d + 4);
		uint8_t lname = d[8], mapq = d[9];
		uint16_t ncig = le16(d + 12), flag = le16(d + 14);
		int32_t lseq = (int32_t)le32(d + 16), mref = (int32_t)le32(d + 20), mpos = (int32_t)le32(d + 24), tlen = (int32_t)le32(d + 28);
		const uint8_t *name = d + 32, *cg = name + lname, *sq = cg + 4 * ncig, *ql = sq + (lseq + 1) / 2, *aux = ql + lseq, *end = d + bs;
		if (outlen + 2 * (size_t)bs + 1024 > sizeof out) flush();
		char *o = (char *)out + outlen;
		memcpy(o, name, lname - 1); o += lname - 1; *o++ = '\t';
		o = putu(o, flag); *o++ = '\t';
		if (ref >= 0) { memcpy(o, names[ref], nlen[ref]); o += nlen[ref]; } else *o++ = '*';
		*o++ = '\t';
		o = puti(o, (int64_t)pos + 1); *o++ = '\t';
		o = putu(o, mapq); *o++ = '\t';
		if (ncig) for (int i = 0; i < ncig; i++) { uint32_t c = le32(cg + 4 * i); o = putu(o, c >> 4); *o++ = cig[c & 15]; }
		else *o++ = '*';
		*o++ = '\t';
		if (mref < 0) *o++ = '*';
		else if (mref == ref) *o++ = '=';
		else { memcpy(o, names[mref], nlen[mref]); o += nlen[mref]; }
		*o++ = '\t';
		o = puti(o, (int64_t)mpos + 1); *o++ = '\t';
		o = puti(o, tlen); *o++ = '\t';
		if (lseq) {
			int i = 0;
			for (; i < lseq / 2; i++) { memcpy(o, &pair16[sq[i]], 2); o += 2; }
			if (lseq & 1) *o++ = nt16[sq[i] >> 4];
			*o++ = '\t';
			if (ql[0] == 0xff) *o++ = '*';
			else for (i = 0; i < lseq; i++) *o++ = ql[i] + 33;
		} else { *o++ = '*'; *o++ = '\t'; *o++ = '*'; }
		const uint8_t *a = aux;
		while (a + 4 <= end) {
			*o++ = '\t'; *o++ = a[0]; *o++ = a[1]; *o++ = ':';
			uint8_t t = a[2]; a += 3;
			switch (t) {
			case 'A': *o++ = 'A'; *o++ = ':'; *o++ = *a++; break;
			case 'c': *o++ = 'i'; *o++ = ':'; o = puti(o, (int8_t)*a++); break;
			case 'C': *o++ = 'i'; *o++ = ':'; o = putu(o, *a++); break;
			case 's': *o++ = 'i'; *o++ = ':'; o = puti(o, (int16_t)le16(a)); a += 2; break;
			case 'S': *o++ = 'i'; *o++ = ':'; o = putu(o, le16(a)); a += 2; break;
			case 'i': *o++ = 'i'; *o++ = ':'; o = puti(o, (int32_t)le32(a)); a += 4; break;
			case 'I': *o++ = 'i'; *o++ = ':'; o = putu(o, le32(a)); a += 4; break;
			case 'f': { uint32_t u = le32(a); float f; memcpy(&f, &u, 4); *o++ = 'f'; *o++ = ':'; o = putd(o, f); a += 4; break; }
			case 'Z': case 'H': { *o++ = t; *o++ = ':'; size_t n = strlen((const char *)a); memcpy(o, a, n); o += n; a += n + 1; break; }
			default: fprintf(stderr, "aux type %c not in the prototype\n", t); exit(1);
			}
		}
		*o++ = '\n';
		outlen = (uint8_t *)o - out;
		nrec++;
	}
	flush();
	fprintf(stderr, "%llu records\n", (unsigned long long)nrec);
	return 0;
}
