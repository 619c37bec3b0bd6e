# TracPro's image: tracpro (static cgo build) and the Litestream CLI built from
# the version pinned in go.mod, run by docker/entrypoint.sh as a non-root user.
#   docker build --build-arg VERSION=$(git describe --always) -t tracpro .
#   docker run -v tracpro-data:/data -e LITESTREAM_BUCKET=… -e LITESTREAM_PATH=… \
#     -e AWS_ACCESS_KEY_ID=… -e AWS_SECRET_ACCESS_KEY=… -p 8080:8080 tracpro
# README.md "Operations" lists every variable.

# 1. Front-end files pinned in package-lock.json (htmx, the common-password list).
FROM node:22-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# 2. The binaries.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=assets /src/node_modules/htmx.org/dist/htmx.min.js assets/vendor/htmx.min.js
COPY --from=assets /src/node_modules/@zxcvbn-ts/language-common/src/passwords.json models/data/common-passwords.json
ARG VERSION=dev
RUN CGO_ENABLED=1 go build -trimpath -tags osusergo,netgo,sqlite_omit_load_extension \
      -ldflags "-s -w -X main.version=${VERSION} -linkmode external -extldflags -static" \
      -o /out/tracpro . \
 && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/litestream github.com/benbjohnson/litestream/cmd/litestream \
 && /out/tracpro version && /out/litestream version

# 3. The runtime: a shell for the entrypoint, CA certificates for S3 over HTTPS.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin tracpro \
 && mkdir -p /data && chown tracpro:tracpro /data
COPY --from=build /out/tracpro /out/litestream /usr/local/bin/
COPY litestream.yml /etc/litestream.yml
COPY docker/entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV TRACPRO_ENV=production \
    TRACPRO_DB=/data/tracpro.db \
    TRACPRO_ADDR=:8080 \
    TRACPRO_METRICS_ADDR=:9100 \
    TRACPRO_LITESTREAM_METRICS=http://127.0.0.1:9090/metrics \
    TRACPRO_BIN=/usr/local/bin/tracpro \
    LITESTREAM_BIN=/usr/local/bin/litestream \
    LITESTREAM_CONFIG=/etc/litestream.yml \
    LITESTREAM_METRICS_ADDR=127.0.0.1:9090 \
    LITESTREAM_SYNC_INTERVAL=1s \
    LITESTREAM_FORCE_PATH_STYLE=false
USER tracpro
VOLUME /data
EXPOSE 8080 9100
HEALTHCHECK --interval=30s --timeout=5s --start-period=2m --retries=3 CMD ["/usr/local/bin/tracpro", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
