# Inkgraph's image: a static binary (CGO_ENABLED=0: the SQLite driver is pure Go) on an
# empty base, run as the unprivileged user inkgraph (65532), with no shell, no package
# manager and nothing else: /inkgraph, /etc/passwd and group, the CA bundle, /data
# (embedded mode's directory, owned by the user) and /tmp.
#
#   docker build -t inkgraph .          (or: podman build -t inkgraph .)
#   docker run -p 8080:8080 -v inkgraph-data:/data inkgraph
#
# With PostgreSQL: -e DATABASE_URL=postgres://... and `inkgraph migrate up` first (the
# image's entrypoint is the binary: `docker run inkgraph migrate up`). deploy/compose.yaml
# runs the whole stack. /healthz and /readyz are HTTP endpoints for the orchestrator's
# probes (the image has no shell or curl for a HEALTHCHECK command).

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
# The checkout comes whole, .git included, so the binary carries its VCS revision and
# time (`inkgraph version`, /healthz).
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -tags timetzdata -ldflags='-s -w' -o /out/inkgraph ./cmd/inkgraph \
    && sh deploy/docker/rootfs.sh /out

FROM scratch AS runtime
COPY --from=build /out/etc/ /etc/
COPY --from=build /out/tmp/ /tmp/
COPY --from=build --chown=65532:65532 /out/data/ /data/
COPY --from=build /out/inkgraph /inkgraph
USER 65532:65532
ENV INKGRAPH_DATA_DIR=/data \
    INKGRAPH_ADDR=:8080
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["/inkgraph"]
CMD ["serve"]
