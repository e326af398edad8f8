#!/usr/bin/env bash
# Build the production image for real and run it (DESIGN.md §7). Called by `make image-check`
# (CI, as root, on Debian bookworm, right after `make test`).
#
#   1. installs podman + debootstrap from Debian if they are missing;
#   2. makes the stand-in base image docker.io/library/python:3.11-slim (debootstrap of
#      bookworm + podman import) unless it exists; the rootfs tarball is cached in $CACHE_DIR;
#   3. podman build --isolation chroot -t tierwise .
#   4. mounts the image and runs its own CMD in a chroot as its non-root USER with its ENV
#      (containers cannot run in this sandbox: rlimits/cgroups), on a free loopback port;
#   5. probes grpc.health.v1 from outside (host venv) and runs the image's HEALTHCHECK
#      inside the chroot: both must say SERVING;
#   6. SIGTERMs the server and requires a clean exit (0) within the drain deadline;
#   7. prints image size and time to serving.
#
# Knobs (environment): IMAGE (tierwise), CACHE_DIR (/var/cache/tierwise-image-check),
# SERVE_TIMEOUT_S (180), STOP_TIMEOUT_S (45), BUILD_TIMEOUT_S (1800), REBUILD_BASE=1.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

IMAGE=${IMAGE:-tierwise}
BASE_IMAGE=docker.io/library/python:3.11-slim
CACHE_DIR=${CACHE_DIR:-/var/cache/tierwise-image-check}
# Bump the suffix when the stand-in's recipe changes (invalidates the cached tarball).
BASE_TARBALL=$CACHE_DIR/python-3.11-slim-standin-bookworm-v1.tar
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SERVE_TIMEOUT_S=${SERVE_TIMEOUT_S:-180}
STOP_TIMEOUT_S=${STOP_TIMEOUT_S:-45}
BUILD_TIMEOUT_S=${BUILD_TIMEOUT_S:-1800}
HOST_PY=$ROOT/.venv/bin/python

WORK=""
MOUNT_DIR=""
SERVER_PID=""
SERVER_LOG=""

log() { printf 'image-check: %s\n' "$*" >&2; }
die() {
    printf 'image-check: FAILED: %s\n' "$*" >&2
    exit 1
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        log "cleanup: stopping server (pid $SERVER_PID)"
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ $rc -ne 0 && -n $SERVER_LOG && -s $SERVER_LOG ]]; then
        log "server output (last 40 lines):"
        tail -n 40 "$SERVER_LOG" >&2 || true
    fi
    if [[ -n $MOUNT_DIR ]]; then
        podman image unmount "$IMAGE" >/dev/null 2>&1 || log "warning: could not unmount $IMAGE"
    fi
    if [[ -n $WORK ]]; then
        # Keep the last run's logs (build, server, healthcheck) for inspection.
        if mkdir -p "$CACHE_DIR/last-run" 2>/dev/null; then
            rm -f "$CACHE_DIR"/last-run/*.log
            cp "$WORK"/*.log "$CACHE_DIR/last-run/" 2>/dev/null || true
        fi
        # A failed debootstrap can leave proc/sys mounted in its target: never rm through them.
        findmnt -rn -o TARGET | grep -F "$WORK/" | sort -r | xargs -r -n1 umount -l || true
        rm -rf --one-file-system "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

T_START=$(now)

# --- 0. preconditions -------------------------------------------------------------------
[[ $(id -u) -eq 0 ]] || die "must run as root (podman image mount, chroot); try: sudo make image-check"
[[ -x $HOST_PY ]] || die "$HOST_PY not found: run 'make install' first"
"$HOST_PY" -c 'import grpc, grpc_health.v1.health_pb2_grpc' 2>/dev/null \
    || die "$HOST_PY cannot import grpc_health (grpcio-health-checking): run 'make install'"
[[ -f Dockerfile ]] || die "no Dockerfile in $ROOT"
WORK=$(mktemp -d /tmp/tierwise-image-check.XXXXXX)

# --- 1. tools -----------------------------------------------------------------------------
need_pkgs=()
command -v podman >/dev/null || need_pkgs+=(podman)
command -v debootstrap >/dev/null || need_pkgs+=(debootstrap)
command -v fuse-overlayfs >/dev/null || need_pkgs+=(fuse-overlayfs)
command -v newuidmap >/dev/null || need_pkgs+=(uidmap)
[[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] || need_pkgs+=(debian-archive-keyring)
if ((${#need_pkgs[@]})); then
    log "installing ${need_pkgs[*]} (apt-get)"
    command -v apt-get >/dev/null || die "apt-get not found: install ${need_pkgs[*]} by hand"
    export DEBIAN_FRONTEND=noninteractive
    timeout 900 apt-get update -qq || die "apt-get update failed"
    timeout 1200 apt-get install -y -qq "${need_pkgs[@]}" >"$WORK/apt.log" 2>&1 || {
        tail -n 30 "$WORK/apt.log" >&2
        die "apt-get install ${need_pkgs[*]} failed"
    }
fi
log "$(podman --version)"

# --- 2. base image stand-in ---------------------------------------------------------------
if [[ ${REBUILD_BASE:-0} == 1 ]]; then
    podman image rm -f "$BASE_IMAGE" >/dev/null 2>&1 || true
    rm -f "$BASE_TARBALL"
fi
if podman image exists "$BASE_IMAGE"; then
    log "base image $BASE_IMAGE present"
else
    mkdir -p "$CACHE_DIR"
    if [[ ! -s $BASE_TARBALL ]]; then
        log "debootstrap bookworm (minbase + python3) -> $BASE_TARBALL (about a minute)"
        t0=$(now)
        rootfs=$WORK/rootfs
        timeout 1200 debootstrap --variant=minbase \
            --include=python3,python3-venv,python3-pip,python-is-python3,ca-certificates \
            bookworm "$rootfs" "$DEBIAN_MIRROR" >"$WORK/debootstrap.log" 2>&1 || {
            tail -n 30 "$WORK/debootstrap.log" >&2
            die "debootstrap failed (log above)"
        }
        # Slim it like the real python:3.11-slim: no package caches or lists.
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
            "$rootfs"/var/log/* "$rootfs"/tmp/*
        tar --numeric-owner -C "$rootfs" -cf "$BASE_TARBALL.partial" .
        mv "$BASE_TARBALL.partial" "$BASE_TARBALL"
        rm -rf "$rootfs"
        log "rootfs cached ($(du -h "$BASE_TARBALL" | cut -f1), $(elapsed "$t0") s)"
    else
        log "using cached rootfs $BASE_TARBALL"
    fi
    # The official image's config, as far as it matters here: PATH, LANG, CMD.
    podman import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["python3"]' \
        "$BASE_TARBALL" "$BASE_IMAGE" >/dev/null || die "podman import of the stand-in failed"
    log "imported $BASE_IMAGE"
fi

# --- 3. build -----------------------------------------------------------------------------
build_args=()
# pip settings that are meaningful inside the build (never find-links: host paths).
for var in PIP_INDEX_URL PIP_DEFAULT_TIMEOUT; do
    if [[ -n ${!var:-} ]]; then
        build_args+=(--build-arg "$var=${!var}")
    fi
done
old_id=$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
log "podman build -t $IMAGE ."
t0=$(now)
timeout "$BUILD_TIMEOUT_S" podman build --isolation chroot --network host --format docker \
    -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro \
    "${build_args[@]}" -t "$IMAGE" . >"$WORK/build.log" 2>&1 || {
    tail -n 40 "$WORK/build.log" >&2
    die "podman build failed (last lines above)"
}
BUILD_S=$(elapsed "$t0")
log "built $IMAGE in ${BUILD_S} s"
# The image this build replaced would pile up (a ~250 MB venv layer each time the source
# changes): remove it. (Not `podman image prune`: that also drops the layer cache.)
new_id=$(podman image inspect --format '{{.Id}}' "$IMAGE")
if [[ -n $old_id && $old_id != "$new_id" ]]; then
    podman image rm "$old_id" >/dev/null 2>&1 || true
fi

# --- 4. read the image's config (USER, ENV, WORKDIR, ENTRYPOINT+CMD, HEALTHCHECK) -----------
podman image inspect "$IMAGE" >"$WORK/inspect.json" || die "podman image inspect $IMAGE failed"
# One NUL-separated record per field; arrays are written as "count, items...".
"$HOST_PY" - "$WORK/inspect.json" >"$WORK/config.bin" <<'PY' || die "cannot read the image config"
import json
import sys

(info,) = json.load(open(sys.argv[1]))
cfg = info.get("Config") or {}
health = cfg.get("Healthcheck") or info.get("Healthcheck") or info.get("HealthCheck") or {}
test = health.get("Test") or []
if test[:1] == ["CMD-SHELL"]:
    test = ["/bin/sh", "-c", *test[1:]]
elif test[:1] == ["CMD"]:
    test = test[1:]
else:
    test = []
timeout_ns = health.get("Timeout") or 30_000_000_000
fields = [str(info.get("Size", 0)), cfg.get("User") or "", cfg.get("WorkingDir") or "/"]
for seq in (cfg.get("Env") or [], (cfg.get("Entrypoint") or []) + (cfg.get("Cmd") or []), test):
    fields += [str(len(seq)), *seq]
fields.append(str(max(1, int(timeout_ns) // 1_000_000_000)))
sys.stdout.write("".join(f + "\0" for f in fields))
PY
mapfile -d '' -t cfg <"$WORK/config.bin"
i=0
IMAGE_SIZE=${cfg[i++]}
IMAGE_USER=${cfg[i++]}
IMAGE_WORKDIR=${cfg[i++]}
n=${cfg[i++]}
IMAGE_ENV=("${cfg[@]:i:n}")
i=$((i + n))
n=${cfg[i++]}
IMAGE_CMD=("${cfg[@]:i:n}")
i=$((i + n))
n=${cfg[i++]}
HEALTH_CMD=("${cfg[@]:i:n}")
i=$((i + n))
HEALTH_TIMEOUT_S=${cfg[i++]}

[[ -n $IMAGE_USER ]] || die "image has no USER: it would run as root"
uid=${IMAGE_USER%%:*}
gid=${IMAGE_USER#*:}
[[ $IMAGE_USER == *:* ]] || gid=$uid
[[ $uid =~ ^[0-9]+$ && $gid =~ ^[0-9]+$ ]] || die "USER '$IMAGE_USER' is not numeric UID[:GID]"
((uid != 0)) || die "USER is root"
((${#IMAGE_CMD[@]})) || die "image has no CMD/ENTRYPOINT"
((${#HEALTH_CMD[@]})) || die "image has no HEALTHCHECK (built without --format docker?)"
log "image: user $uid:$gid, cmd: ${IMAGE_CMD[*]}"

# --- 5. run it: chroot into the mounted image as its user, on a free loopback port -----------
MOUNT_DIR=$(podman image mount "$IMAGE") || die "podman image mount $IMAGE failed"
[[ -d $MOUNT_DIR ]] || die "podman image mount gave no directory"

PORT=$("$HOST_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ADDRESS=127.0.0.1:$PORT

home=$(awk -F: -v u="$uid" '$3 == u { print $6; exit }' "$MOUNT_DIR/etc/passwd" 2>/dev/null || true)
run_env=("HOME=${home:-/}")
run_env+=("${IMAGE_ENV[@]}")
# The address override: env for the HEALTHCHECK (and the CLI default), an appended flag for
# the CMD (its own --address comes first; the last one wins).
run_env+=("TIERWISE_ADDRESS=$ADDRESS")

# Runs a command in the image the way a container would: a private mount namespace with
# /proc, /sys and /dev, chroot into the image as its user, only the image's ENV, its WORKDIR.
# Every step execs the next, so a background job's $! is the command's own PID (SIGTERM
# reaches the server itself) and the mounts vanish with the process.
# shellcheck disable=SC2016  # the inner script expands its own $1/$@
IN_IMAGE=(
    unshare --mount --propagation private -- /bin/sh -c '
        set -e
        root=$1
        shift
        for fs in proc sys dev; do mount --rbind "/$fs" "$root/$fs"; done
        exec "$@"' in-image "$MOUNT_DIR"
    chroot --userspec="$uid:$gid" "$MOUNT_DIR"
    env -i -C "$IMAGE_WORKDIR" "${run_env[@]}"
)

SERVER_LOG=$WORK/server.log
log "starting: ${IMAGE_CMD[*]} --address $ADDRESS (chroot, uid $uid)"
t_serve=$(now)
"${IN_IMAGE[@]}" "${IMAGE_CMD[@]}" --address "$ADDRESS" >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

# Health probe from outside the image: the host venv's grpc + grpc_health.
probe() {
    "$HOST_PY" - "$ADDRESS" <<'PY'
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

with grpc.insecure_channel(sys.argv[1]) as channel:
    try:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=2
        )
    except grpc.RpcError as e:
        print(f"{e.code().name}: {e.details()}")
        sys.exit(1)
status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
print(status)
sys.exit(0 if status == "SERVING" else 1)
PY
}

deadline=$(($(date +%s) + SERVE_TIMEOUT_S))
last=""
until last=$(probe 2>&1); do
    kill -0 "$SERVER_PID" 2>/dev/null || {
        wait "$SERVER_PID" && rc=0 || rc=$?
        SERVER_PID=""
        die "the server exited (status $rc) before serving (its output follows)"
    }
    (($(date +%s) < deadline)) || die "not SERVING after ${SERVE_TIMEOUT_S} s (last probe: ${last:-none})"
    sleep 0.25
done
SERVING_S=$(elapsed "$t_serve")
log "health (from outside, $ADDRESS): $last after ${SERVING_S} s"

log "HEALTHCHECK inside the image (${HEALTH_CMD[0]} ...)"
timeout "$((HEALTH_TIMEOUT_S + 5))" "${IN_IMAGE[@]}" "${HEALTH_CMD[@]}" >"$WORK/healthcheck.log" 2>&1 && rc=0 || rc=$?
if ((rc != 0)); then
    cat "$WORK/healthcheck.log" >&2
    die "the image's HEALTHCHECK failed (exit $rc) against a SERVING server"
fi
log "HEALTHCHECK: ok"

# --- 6. graceful shutdown -------------------------------------------------------------------
log "SIGTERM -> server (pid $SERVER_PID)"
t_stop=$(now)
kill -TERM "$SERVER_PID"
deadline=$(($(date +%s) + STOP_TIMEOUT_S))
while kill -0 "$SERVER_PID" 2>/dev/null; do
    (($(date +%s) < deadline)) || die "server still running ${STOP_TIMEOUT_S} s after SIGTERM"
    sleep 0.1
done
wait "$SERVER_PID" && rc=0 || rc=$?
SERVER_PID=""
STOP_S=$(elapsed "$t_stop")
((rc == 0)) || die "server exited with status $rc after SIGTERM (expected 0)"
if grep -q 'Traceback (most recent call last)' "$SERVER_LOG"; then
    die "the server logged a traceback"
fi
log "server stopped cleanly (exit 0) in ${STOP_S} s"

podman image unmount "$IMAGE" >/dev/null || log "warning: could not unmount $IMAGE"
MOUNT_DIR=""

# --- 7. summary -------------------------------------------------------------------------------
size_h=$(numfmt --to=iec-i --suffix=B "$IMAGE_SIZE" 2>/dev/null || echo "$IMAGE_SIZE bytes")
cat <<EOF
image-check: OK
  image            $IMAGE (${new_id:0:12})
  size             $size_h
  build            ${BUILD_S} s
  user             $uid:$gid
  time to SERVING  ${SERVING_S} s (health checked from outside and by the image's HEALTHCHECK)
  SIGTERM -> exit  ${STOP_S} s (status 0)
  total            $(elapsed "$T_START") s
  logs             $CACHE_DIR/last-run/
EOF
