# strata: build the engine, run the example pipeline, test everything.
GO      ?= go
STRATA  := bin/strata
SEEDS   := seeds/raw_customers.csv seeds/raw_products.csv seeds/raw_orders.csv seeds/raw_order_items.csv \
           seeds/raw_clickstream.csv seeds/raw_marketing_campaigns.csv seeds/raw_inventory.csv \
           seeds/generator_dirt.csv

.PHONY: all build run data test test-short golden bench fmt vet clean

all: build

build: $(STRATA)

$(STRATA): $(shell find cmd engine -name '*.go' -not -name '*_test.go') go.mod go.sum
	$(GO) build -o $(STRATA) ./cmd/strata

# The example data: generated once, deterministically (delete seeds/*.csv to regenerate).
data: $(SEEDS)

$(SEEDS) &:
	$(GO) run ./cmd/gendata --out seeds

# Build strata, generate the data, start the local PostgreSQL and build the whole pipeline.
run: build data
	$(STRATA) build

# gofmt, go vet, and every test, including the integration tests against a real PostgreSQL
# and the docs site's browser tests. Those need Chromium: when it is missing, the script
# installs Debian's chromium with apt-get (as root) and says so in one line; when it
# cannot, it says why and the browser tests skip (with CI set, they fail instead).
test: fmt vet
	@bash scripts/install-chromium.sh || true
	$(GO) test -count=1 -timeout 45m ./...

# The tests that need neither PostgreSQL nor Chromium (go test -short skips the
# others): seconds, for every change while you work. make test is the whole suite.
test-short:
	$(GO) test -short -count=1 ./...

# Rewrite the golden files (engine/endtoend's cases, the example's compiled SQL,
# the tables of built-in tests in docs/tests.md) from what strata does now;
# read the diff before committing it.
golden:
	$(GO) test -short -count=1 -run 'TestCases|TestCompileExampleGolden|TestDocsTables' ./engine/endtoend ./engine/cli ./engine/datatest -update

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# Benchmarks (not tests): the figures quoted in BENCHMARKS.md and the closing notes.
# Their projects go to a fresh folder under .bench/ and stay there (make clean
# removes them): removing thousands of files slows down every file created near
# them for minutes afterwards on a journal-less ext4, which would skew the next
# benchmark (see engine/internal/benchdir). -p 1: go does not compile the next
# package's tests while a benchmark runs. BENCH=regexp picks benchmarks.
BENCH ?= .
bench:
	@dir=$(CURDIR)/.bench/run-$$(date +%Y%m%d-%H%M%S); mkdir -p $$dir; \
	STRATA_BENCH_DIR=$$dir $(GO) test -p 1 -run '^$$' -bench '$(BENCH)' -benchtime 1x -timeout 60m ./...; rc=$$?; \
	echo "benchmark projects kept in $$dir ($$(du -sh $$dir | cut -f1)); make clean removes .bench/"; exit $$rc

clean:
	rm -rf bin target .bench
