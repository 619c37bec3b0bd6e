# TracPro. `make run` starts the demo; `make test` runs every check the project has.
GO      ?= go
BIN     := bin/tracpro
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)

.PHONY: run test build assets vet fmt-check bench-ingest clean replicate build-static bench-restore

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

# Replication (README "Operations"): Litestream runs `tracpro serve` as its child
# and ships the WAL to S3. Set LITESTREAM_BUCKET, LITESTREAM_PATH, LITESTREAM_ENDPOINT,
# LITESTREAM_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY first; AWS_CA_BUNDLE
# is cleared (set on these machines, it makes every Litestream S3 call fail).
TRACPRO_DB ?= tracpro.db
replicate: build
	@test -n "$$LITESTREAM_BUCKET" || { echo "make replicate: set LITESTREAM_BUCKET (and LITESTREAM_PATH, LITESTREAM_ENDPOINT, AWS_* keys)"; exit 2; }
	AWS_CA_BUNDLE= TRACPRO_DB=$(TRACPRO_DB) $(GO) tool litestream replicate -config litestream.yml -exec "./$(BIN) serve"

# The Dockerfile's static binary, built here (no Docker needed).
build-static: assets
	CGO_ENABLED=1 $(GO) build -trimpath -tags osusergo,netgo,sqlite_omit_load_extension \
		-ldflags "-s -w -X main.version=$(VERSION) -linkmode external -extldflags -static" -o bin/tracpro-static .

# Restore time of a 1 GB database from the loopback S3 server, and the data
# lost by a SIGKILL at the sync interval (docs/benchmarks.md; a few minutes).
bench-restore:
	AWS_CA_BUNDLE= TRACPRO_BENCH_RESTORE=1 $(GO) test -run '^$$' -bench 'BenchmarkRestore|BenchmarkCrashLoss' -benchtime 1x -timeout 30m .

clean:
	rm -rf bin assets/vendor models/data/common-passwords.json
