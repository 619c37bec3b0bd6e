# TracPro. `make run` starts the demo; `make test` runs every check the project has.
GO      ?= go
BIN     := bin/tracpro
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)

.PHONY: run test build assets vet fmt-check bench-ingest clean

run: build
	./$(BIN) demo

build: assets
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) .

# htmx is pinned in package.json / package-lock.json and vendored into assets/vendor.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# The common-password list (sign-in policy) comes from the npm package @zxcvbn-ts/language-common.
assets: node_modules/.package-lock.json
	mkdir -p assets/vendor
	cp node_modules/htmx.org/dist/htmx.min.js assets/vendor/htmx.min.js
	cp node_modules/@zxcvbn-ts/language-common/src/passwords.json models/data/common-passwords.json

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

test: assets fmt-check vet
	$(GO) test -count=1 -timeout 15m ./...

# The ingest benchmark of docs/benchmarks.md (100,000 contacts, 1,000,000 runs; a few minutes).
bench-ingest: build
	TRACPRO_BENCH_INGEST=1 $(GO) test -run '^$$' -bench BenchmarkIngest -benchtime 1x -timeout 30m ./jobs/

clean:
	rm -rf bin assets/vendor models/data/common-passwords.json
