# popsink-pg as a container: the service (`popsink-pg serve`) on port 8080,
# its state and event stores in the /data volume, a bearer token required.
#
#   docker build -t popsink-pg .
#   docker run -d -p 8080:8080 -v popsink-data:/data -e POPSINK_API_TOKEN="$(openssl rand -hex 32)" popsink-pg
#
# Without POPSINK_API_TOKEN (or --token-file) `serve` refuses to listen on
# 0.0.0.0 and the container exits: the API is never exposed unauthenticated.
# With a token file instead of the variable (a Docker/Kubernetes secret):
#   docker run ... -v /path/token:/run/secrets/popsink_token:ro popsink-pg \
#     serve --listen 0.0.0.0:8080 --data-dir /data --public-dir /app/Public --token-file /run/secrets/popsink_token

ARG SWIFT_VERSION=6.3

# ---- build ----------------------------------------------------------------
FROM swift:${SWIFT_VERSION}-bookworm AS build

# Headers and pkg-config files of the C libraries the package links (CLibPQ, CSQLite, COpenSSL, CNATS, CRdKafka).
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libpq-dev libsqlite3-dev libssl-dev libnats-dev librdkafka-dev liblz4-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src

# Dependencies first, in their own layer: they change far less often than Sources/.
# (Package.resolve[d]: the lock file is copied when the context has one.)
COPY Package.swift Package.resolve[d] ./
RUN swift package resolve

COPY . .
# The Swift runtime and Foundation linked statically: the runtime image needs
# no Swift toolchain, only the C libraries below.
RUN swift build -c release --product popsink-pg --static-swift-stdlib \
    && mkdir -p /staging/Public \
    && cp "$(swift build -c release --show-bin-path)/popsink-pg" /staging/ \
    && find -L "$(swift build -c release --show-bin-path)/" -maxdepth 1 -name '*.resources' -exec cp -Ra {} /staging/ \; \
    && cp /usr/libexec/swift/linux/swift-backtrace-static /staging/ \
    && if [ -d Public ]; then cp -R Public/. /staging/Public/; fi

# ---- runtime --------------------------------------------------------------
FROM debian:bookworm-slim

# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libpq5 libssl3 libsqlite3-0 libnats3.4 librdkafka1 liblz4-1 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin popsink \
    && mkdir -p /data \
    && chown popsink:popsink /data

WORKDIR /app
COPY --from=build --chown=root:root /staging/ /app/

# Readable crash backtraces with the statically linked runtime.
ENV SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/app/swift-backtrace-static

USER 10001:10001
VOLUME ["/data"]
EXPOSE 8080

# /healthz with bash's /dev/tcp: the slim image has bash, grep and timeout but
# no curl or wget, and installing curl (with libcurl and its dependencies)
# for one probe would grow the image and its attack surface.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && timeout 4 head -n 1 <&3 | grep -q ' 200 '"]

# SIGTERM (docker stop) stops accepting, finishes requests in flight, stops
# every pipeline with a final status update to Postgres, and exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/popsink-pg"]
CMD ["serve", "--listen", "0.0.0.0:8080", "--data-dir", "/data", "--public-dir", "/app/Public"]
