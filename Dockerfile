# Tierwise production image: the gRPC service (`tierwise serve`) on port 50051.
#
#   docker build -t tierwise .          # or: make image-check (podman, see DESIGN.md §7)
#   docker run -p 50051:50051 tierwise
#
# Stage 1 builds wheels of the four workspace distributions and installs them with their
# pinned runtime dependencies into /opt/venv. Stage 2 is a clean base plus /opt/venv only:
# no compilers, no build tools, no source tree and never the classifier's [train] extra
# (torch & co.). Works on the official python:3.11-slim and on the Debian bookworm stand-in
# that scripts/image-check.sh builds (python3 3.11 from Debian): only `python3` is assumed.

FROM python:3.11-slim AS builder

# Index settings can be passed through (`--build-arg PIP_INDEX_URL=...`); a build never
# depends on the host's pip configuration or find-links directories.
ARG PIP_INDEX_URL=https://pypi.org/simple
ARG PIP_DEFAULT_TIMEOUT=60

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH

RUN python3 -m venv /opt/venv

WORKDIR /src
COPY requirements/constraints.txt requirements/constraints.txt

# Third-party runtime dependencies first (their own layer: it survives source edits). The
# list is read from the four pyproject.toml files, minus the workspace's own distributions;
# versions come from the constraints file.
COPY sdk/pyproject.toml sdk/
COPY cost_tables/pyproject.toml cost_tables/
COPY classifier/pyproject.toml classifier/
COPY server/pyproject.toml server/
RUN python -c "import glob, tomllib; deps = sorted({d for f in glob.glob('*/pyproject.toml') for d in tomllib.load(open(f, 'rb'))['project']['dependencies'] if not d.startswith('tierwise-')}); open('/tmp/runtime-deps.txt', 'w').write(chr(10).join(deps) + chr(10))" \
    && pip install --constraint requirements/constraints.txt --requirement /tmp/runtime-deps.txt

# The workspace itself: wheels built without their dependencies (PIP_CONSTRAINT also pins
# hatchling in pip's isolated build environment), then installed together with the
# constraints so nothing already installed moves. The runtime venv keeps no pip/setuptools.
COPY sdk/ sdk/
COPY cost_tables/ cost_tables/
COPY classifier/ classifier/
COPY server/ server/
RUN PIP_CONSTRAINT=requirements/constraints.txt \
        pip wheel --no-deps --wheel-dir /wheels ./sdk ./cost_tables ./classifier ./server \
    && pip install --constraint requirements/constraints.txt /wheels/*.whl \
    && pip check \
    && python -c "import tierwise.server.cli, tierwise.classifier.runtime, grpc_health.v1.health" \
    && python -m pip uninstall --yes --quiet pip setuptools


FROM python:3.11-slim

LABEL org.opencontainers.image.title="tierwise" \
      org.opencontainers.image.description="Tierwise LLM routing-and-pricing gRPC service"

ENV PATH=/opt/venv/bin:$PATH \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

# Fixed, numeric, non-root identity (matches USER below; run with --user 10001:10001 too).
RUN groupadd --system --gid 10001 tierwise \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin tierwise

# Root-owned and read-only for the service user: the service writes nothing to disk.
COPY --from=builder /opt/venv /opt/venv

USER 10001:10001
EXPOSE 50051

# gRPC health service (grpc.health.v1, overall status ""), probed over loopback with the
# grpcio-health-checking client installed in the venv. The port follows TIERWISE_ADDRESS
# when it is set (set it too if you move the service off 50051); exit 0 only when SERVING.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, sys, grpc; from grpc_health.v1 import health_pb2 as pb, health_pb2_grpc as pbg; port = os.environ.get('TIERWISE_ADDRESS', ':50051').rpartition(':')[2]; channel = grpc.insecure_channel('127.0.0.1:' + port); reply = pbg.HealthStub(channel).Check(pb.HealthCheckRequest(service=''), timeout=2); sys.exit(0 if reply.status == pb.HealthCheckResponse.SERVING else 1)"]

CMD ["tierwise", "serve", "--address", "0.0.0.0:50051"]
