# syntax=docker/dockerfile:1
#
# CareCircle in one static binary on a distroless base: no shell, no package
# manager, a non-root user. The SQLite driver is pure Go, so CGO is off.
#
#   docker build -t carecircle:1.0.0 --build-arg VERSION=1.0.0 --build-arg REVISION=$(git rev-parse HEAD) .
#   docker run -p 4000:4000 -v carecircle-data:/data carecircle:1.0.0
#
# The image has not been built on CareCircle's own CI machines (they run no
# container engine); deploy/deploy_test.go checks this file, the compose file
# and the systemd unit against the settings the binary knows.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -ldflags="-s -w -X main.buildVersion=${VERSION}" -o /out/carecircle ./cmd/carecircle \
    && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="CareCircle" \
      org.opencontainers.image.description="Families looking after someone together: medications, appointments, shifts, emergencies" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="https://github.com/carecircle/carecircle"
COPY --from=build /out/carecircle /usr/local/bin/carecircle
# distroless's nonroot user is 65532; /data belongs to it so a fresh named
# volume does too.
COPY --from=build --chown=65532:65532 /out/data /data
ENV DATA_DIR=/data \
    PORT=4000
USER 65532:65532
VOLUME ["/data"]
EXPOSE 4000 3002
# /health/ready on PORT for serve; a worker's compose service probes
# http://127.0.0.1:3002/ready instead (HEALTH_PORT).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/carecircle", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/carecircle"]
CMD ["serve"]
