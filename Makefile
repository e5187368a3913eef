# edgenome: `make run` builds everything and serves the embedded default
# config on 127.0.0.1:8080; `make test` runs every test.
GO      ?= go
REG     ?= registry
PLUGINS := $(sort $(dir $(wildcard plugins/*/plugin.yaml)))

.PHONY: all build host plugins data run test conformance bench fuzz soak testdata clean

all: build

build: host plugins data

host:
	$(GO) build -o bin/edgenome ./host/cmd/edgenome

plugins:
	@if [ -n "$(PLUGINS)" ]; then $(GO) run ./internal/pluginbuild/cmd -out $(REG) $(PLUGINS); fi

data: data/demo.fa

data/demo.fa: $(wildcard internal/demoref/*.go)
	$(GO) run ./internal/demoref/cmd data

run: build
	./bin/edgenome serve

# Every test: unit, fuzz seeds, end-to-end, and conformance against the
# native tools where they are installed (set EDGENOME_REQUIRE_TOOLS=1 to
# make a missing tool or data set a failure instead of a skip).
test: testdata
	$(GO) vet ./...
	GOOS=wasip1 GOARCH=wasm $(GO) vet ./plugins/... ./tests/plugins/...
	GOOS=wasip1 GOARCH=wasm $(GO) vet -tags nohelpers ./plugins/samtools/wasm
	$(GO) test -timeout 30m ./...

# Conformance only, with the native tools required.
conformance: testdata
	EDGENOME_REQUIRE_TOOLS=1 $(GO) test -timeout 30m -run 'Conformance' ./...

# Real test data from Debian's packages (htslib-test, python-pysam-tests,
# abacas-examples, gasic-examples) into .cache/testdata; skipped quietly when
# apt is not available.
testdata:
	@scripts/fetch-testdata.sh >/dev/null 2>&1 || echo "note: test data not fetched (apt-get download unavailable); data tests will skip"

bench: build testdata
	$(GO) run ./bench

fuzz:
	scripts/fuzz.sh

# Sustained mixed load on loopback (wrk), with hot reloads and origin
# faults; bounded by SOAK_DURATION. Not part of `make test`.
SOAK_DURATION ?= 120s
soak:
	$(GO) run ./tests/soak -duration $(SOAK_DURATION)

clean:
	rm -rf bin $(REG)/*/ data
