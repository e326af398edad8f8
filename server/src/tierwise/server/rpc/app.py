"""Wiring: load the heavy components once, build the gRPC server, run until a signal."""

from __future__ import annotations

import contextlib
import gc
import signal
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import grpc
import structlog
from google.protobuf.descriptor import ServiceDescriptor
from grpc_health.v1 import health, health_pb2
from grpc_reflection.v1alpha import reflection

from tierwise.classifier.runtime import ModelLoadError, RouterModel
from tierwise.cost_tables.errors import CostTableError
from tierwise.cost_tables.tables import TierTable, load_tier_table
from tierwise.server.config import ServerSettings
from tierwise.server.errors import LatencyTableError, PolicyError, StartupError
from tierwise.server.metrics import Metrics
from tierwise.server.outcomes.metrics import OutcomeMetrics
from tierwise.server.outcomes.recorder import OutcomeRecorder
from tierwise.server.outcomes.registry import DecisionRegistry
from tierwise.server.outcomes.store import StoreError, open_store
from tierwise.server.outcomes.writer import BackgroundWriter
from tierwise.server.routing.default_policy import default_policy
from tierwise.server.routing.latency import LatencyHolder
from tierwise.server.routing.policy import PolicyHolder, load_policy
from tierwise.server.routing.router import Router
from tierwise.server.rpc.admin_service import AdminService, reload_latency, reload_policy
from tierwise.server.rpc.admission import Admission, ClassLimits, WorkClass, WorkClasses
from tierwise.server.rpc.handlers import InFlight, service_handler
from tierwise.server.rpc.health_service import health_handler
from tierwise.server.rpc.outcome_service import OutcomeService
from tierwise.server.rpc.pricing_service import PricingService
from tierwise.server.rpc.router_service import RouterService
from tierwise.server.rpc.signals import SignalInbox
from tierwise.v1 import admin_pb2, outcomes_pb2, pricing_pb2, router_pb2

_log = structlog.get_logger("tierwise.server")

SERVICES = (
    router_pb2.DESCRIPTOR.services_by_name["RouterService"],
    pricing_pb2.DESCRIPTOR.services_by_name["PricingService"],
    admin_pb2.DESCRIPTOR.services_by_name["AdminService"],
    outcomes_pb2.DESCRIPTOR.services_by_name["OutcomeService"],
)


MAX_CONNECTION_AGE_MS = 300_000
MAX_CONNECTION_AGE_GRACE_MS = 10_000


def _method_names(services: tuple[ServiceDescriptor, ...]) -> list[str]:
    return [f"{s.full_name}/{m.name}" for s in services for m in s.methods]


def _class_limits(settings: ServerSettings) -> dict[WorkClass, ClassLimits]:
    s = settings
    return {
        WorkClass.ROUTE: ClassLimits(s.max_workers, s.max_concurrent_rpcs),
        WorkClass.BATCH: ClassLimits(s.batch_workers, s.batch_max_in_flight),
        WorkClass.PRICING: ClassLimits(s.pricing_workers, s.pricing_max_in_flight),
        WorkClass.ADMIN: ClassLimits(s.admin_workers, s.admin_max_in_flight),
        WorkClass.HEALTH: ClassLimits(s.health_workers, s.health_max_in_flight),
        WorkClass.OTHER: ClassLimits(s.other_workers, s.other_max_in_flight),
    }


def _tokens_for(service: str, settings: ServerSettings) -> tuple[str, ...]:
    """AdminService takes admin tokens when they are configured; the rest the usual ones."""
    if service == "tierwise.v1.AdminService" and settings.admin_tokens:
        return settings.admin_tokens
    return settings.auth_tokens


@dataclass(frozen=True)
class Components:
    """Everything a server needs, loaded and validated once at start."""

    table: TierTable
    model: RouterModel
    policies: PolicyHolder
    router: Router


def load_components(settings: ServerSettings) -> Components:
    """Load tables, model and policy; StartupError names the file and the problem."""
    try:
        table = load_tier_table(settings.tiers_file)
    except CostTableError as error:
        raise StartupError(f"cost table: {error}") from error
    except UnicodeDecodeError as error:
        raise StartupError(
            f"cost table {settings.tiers_file}: not UTF-8 text (byte {error.start})"
        ) from error
    try:
        model = RouterModel.load(
            settings.model_dir,
            encoder=settings.encoder,
            solo_intra_op_threads=settings.solo_threads,
        )
    except ModelLoadError as error:
        raise StartupError(f"router model: {error}") from error
    default = None
    if settings.policy_file is None:
        # No policy file: the tier table places its tiers on this model's ability scale.
        try:
            default = default_policy(model.manifest, table)
        except CostTableError as error:
            raise StartupError(f"cost table: {error}") from error
    try:
        policies = PolicyHolder(
            default or load_policy(settings.policy_file),
            table.ids(),
            settings.policy_file,
            encoder=model.encoder,
            embedding_dim=model.spec.embedding_dim,
            skill_dims=model.manifest.skill_dims,
            default=default,
        )
    except PolicyError as error:
        raise StartupError(str(error)) from error
    try:
        latency = LatencyHolder(table, settings.latency_file, settings.published_latency_file)
    except LatencyTableError as error:
        raise StartupError(str(error)) from error
    return Components(table, model, policies, Router(model, table, policies, latency))


def build_recorder(settings: ServerSettings, metrics: Metrics) -> OutcomeRecorder:
    """Decision ids and outcome reports; persisted when an outcome store is configured."""
    outcome_metrics = OutcomeMetrics(metrics.registry)
    registry = DecisionRegistry(settings.recent_decisions)
    if settings.outcome_store is None:
        return OutcomeRecorder(registry, outcome_metrics)
    try:
        store = open_store(settings.outcome_store)
    except StoreError as error:
        raise StartupError(str(error)) from error
    writer = BackgroundWriter(store, on_write=outcome_metrics.observe_write)
    return OutcomeRecorder(
        registry,
        outcome_metrics,
        store=store,
        writer=writer,
        store_query_text=settings.store_query_text,
    )


def _credentials(settings: ServerSettings) -> grpc.ServerCredentials | None:
    if settings.tls is None:
        return None
    try:
        key = settings.tls.private_key_file.read_bytes()
        certificate = settings.tls.certificate_file.read_bytes()
        client_ca = (
            settings.tls.client_ca_file.read_bytes() if settings.tls.client_ca_file else None
        )
    except OSError as error:
        raise StartupError(f"TLS: cannot read {error.filename}: {error.strerror}") from error
    # grpc reports a key that does not match its certificate only as "Failed to bind".
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
            settings.tls.certificate_file, settings.tls.private_key_file
        )
    except ssl.SSLError as error:
        raise StartupError(
            f"TLS: {settings.tls.private_key_file} is not the key of "
            f"{settings.tls.certificate_file} (or one is not PEM): {error.reason or error}"
        ) from error
    return grpc.ssl_server_credentials(
        [(key, certificate)], root_certificates=client_ca, require_client_auth=client_ca is not None
    )


class TierwiseServer:
    """A configured server. `start()` binds and returns the port (0 in the address picks one)."""

    def __init__(self, settings: ServerSettings, components: Components | None = None) -> None:
        if settings.admin_is_exposed and not settings.insecure_admin:
            raise StartupError(
                f"AdminService on {settings.address} would accept policy reloads from the "
                "network without its own token: give --admin-token-file, or --no-admin, or "
                "--insecure-admin to accept that"
            )
        self.settings = settings
        self.components = components or load_components(settings)
        services = SERVICES if settings.enable_admin else SERVICES[:2]
        known = _method_names(services)
        if settings.enable_health:
            known += [f"{health.SERVICE_NAME}/Check", f"{health.SERVICE_NAME}/Watch"]
        self.metrics = Metrics(
            known, callers=settings.metric_callers, features=settings.metric_features
        )
        self.health = health.HealthServicer()
        self.port = 0
        self.metrics_port: int | None = None
        self._stopped = threading.Event()
        self.in_flight = InFlight()
        # The model's solo session (more threads) only for a request that is alone in the server.
        in_flight = self.in_flight
        self.components.model.use_concurrency_probe(lambda: in_flight.value)
        self.work_classes = WorkClasses(_class_limits(settings))
        self._server = grpc.server(
            # Only what no class claims runs here (reflection); admission.py gives every
            # other RPC its class's executor and refuses it when the class is full.
            self.work_classes.pool(WorkClass.OTHER),
            interceptors=[Admission(self.work_classes, self.metrics)],
            options=[
                # grpc refuses a larger message as it arrives, before it is buffered whole.
                ("grpc.max_receive_message_length", settings.max_message_bytes),
                ("grpc.max_send_message_length", settings.max_message_bytes),
                # Fail loudly if the port is taken instead of silently sharing it.
                ("grpc.so_reuseport", 0),
                # BDP probing grows each stream's receive window toward megabytes, so 128
                # unauthenticated 5 MiB calls made grpc buffer ≈170 MiB before any handler
                # ran; the fixed 64 KiB window bounds what a call not yet read can hold.
                ("grpc.http2.bdp_probe", 0),
                # The SDK pings every second to notice a frozen replica: allow it.
                ("grpc.keepalive_permit_without_calls", 1),
                ("grpc.http2.min_recv_ping_interval_without_data_ms", 500),
                ("grpc.http2.max_ping_strikes", 0),
                # Clients re-resolve DNS when a connection ends: bounded connection age lets
                # long-lived clients find replicas added by a scale-out.
                ("grpc.max_connection_age_ms", MAX_CONNECTION_AGE_MS),
                ("grpc.max_connection_age_grace_ms", MAX_CONNECTION_AGE_GRACE_MS),
            ],
        )
        c = self.components
        self.recorder = build_recorder(settings, self.metrics)
        servicers: tuple[object, ...] = (
            RouterService(
                c.router,
                self.metrics,
                max_batch_requests=settings.max_batch_requests,
                log_query_text=settings.log_query_text,
                decision_cache_entries=settings.decision_cache_entries,
                recorder=self.recorder,
            ),
            PricingService(
                c.table,
                max_price_evaluations=settings.max_workload_price_evaluations,
                max_histogram_buckets=settings.max_histogram_buckets,
            ),
            AdminService(c.policies, self.metrics, c.router.latency),
            OutcomeService(self.recorder, c.table.ids(), max_batch=settings.max_outcomes_per_batch),
        )
        self._server.add_generic_rpc_handlers(
            [
                service_handler(
                    descriptor,
                    servicer,
                    self.metrics,
                    auth_tokens=_tokens_for(descriptor.full_name, settings),
                    in_flight=self.in_flight,
                    max_message_bytes=settings.max_message_bytes,
                )
                for descriptor, servicer in zip(services, servicers, strict=False)
            ]
        )
        self._services = services
        names = [d.full_name for d in services]
        if settings.enable_health:
            # Its own in-flight count: probes must not turn the model's solo session off.
            self._server.add_generic_rpc_handlers(
                [health_handler(self.health, self.metrics, InFlight())]
            )
            names.append(health.SERVICE_NAME)
        if settings.enable_reflection:
            reflection.enable_server_reflection([*names, reflection.SERVICE_NAME], self._server)

    def start(self) -> int:
        credentials = _credentials(self.settings)
        try:
            if credentials is None:
                self.port = self._server.add_insecure_port(self.settings.address)
            else:
                self.port = self._server.add_secure_port(self.settings.address, credentials)
        except RuntimeError as error:
            raise StartupError(f"cannot listen on {self.settings.address}: {error}") from error
        if self.port == 0:
            raise StartupError(f"cannot listen on {self.settings.address}")
        self._server.start()
        for descriptor in self._services:
            self.health.set(descriptor.full_name, health_pb2.HealthCheckResponse.SERVING)
        self.health.set("", health_pb2.HealthCheckResponse.SERVING)
        if self.settings.metrics_address:
            self.metrics_port = self.metrics.serve_http(self.settings.metrics_address)
        _log.info(
            "server.started",
            address=self.settings.address,
            port=self.port,
            encoder=self.components.model.encoder,
            router_version=self.components.router.router_version,
            table_version=self.components.table.version,
            policy_version=self.components.policies.current.version,
            latency_version=self.components.router.latency.current.version,
            metrics_port=self.metrics_port,
        )
        return self.port

    def reload_policy(self) -> None:
        """Re-read the configured policy file; a bad file is rejected and logged."""
        # A rejected policy is already counted and logged; the old one keeps serving.
        with contextlib.suppress(Exception):
            reload_policy(self.components.policies, self.metrics)

    def reload_latency(self) -> None:
        """Re-read the configured latency files; a bad file is rejected and logged."""
        # Like the policy: a rejected file is counted and logged, the old figures keep serving.
        with contextlib.suppress(Exception):
            reload_latency(self.components.router.latency, self.metrics)

    def reload_configuration(self) -> None:
        """What SIGHUP does: the policy file, then the latency file (each on its own)."""
        self.reload_policy()
        self.reload_latency()

    def announce_drain(self) -> None:
        """Health answers NOT_SERVING from now on; RPCs are still served until stop()."""
        self.health.enter_graceful_shutdown()
        _log.info("server.draining")

    def stop(self, grace_s: float | None = None) -> None:
        """Stop taking new RPCs, let in-flight ones finish for up to grace_s, then stop."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        grace = self.settings.grace_s if grace_s is None else grace_s
        self.health.enter_graceful_shutdown()
        started = time.perf_counter()
        self._server.stop(grace).wait()
        # Outcomes accepted before the stop are written before the process goes.
        self.recorder.close()
        self.work_classes.shutdown()
        self.metrics.stop_http()
        _log.info("server.stopped", drained_s=round(time.perf_counter() - started, 3))


def serve(settings: ServerSettings) -> int:
    """Run until SIGTERM/SIGINT (graceful drain); SIGHUP reloads the policy and latency files."""
    server = TierwiseServer(settings)
    # What is loaded by now (model, tables, modules) lives as long as the process: frozen, the
    # cyclic collector stops rescanning it, and the rare full collection (≈20 ms with every
    # RPC thread stopped, once per ~8,000 routes) shrinks to a scan of recent objects.
    gc.collect()
    gc.freeze()
    # Installed before the port opens: a SIGHUP from a reload sidecar right at start must
    # reload, not kill the process.
    inbox = SignalInbox((signal.SIGTERM, signal.SIGINT, signal.SIGHUP))
    # One reload at a time, in the order signalled: two quick SIGHUPs on two threads could
    # otherwise finish out of order and leave the older file active.
    reloads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tierwise-reload")
    try:
        server.start()
        print(f"tierwise: serving on {_display_address(settings.address, server.port)}", flush=True)
        # The main thread drains and stops the server itself, so the process cannot exit
        # before in-flight RPCs finish and the final log line is written.
        received = inbox.next()
        while received is signal.SIGHUP:
            reloads.submit(server.reload_configuration)
            received = inbox.next()
        _log.info("server.signal", signal=received.name if received else None)
        # Probes and health-watching clients see NOT_SERVING while the server still answers;
        # the notice is part of the grace period.
        notice = min(settings.drain_notice_s, settings.grace_s / 2)
        server.announce_drain()
        time.sleep(notice)
        server.stop(settings.grace_s - notice)
    finally:
        # A reload in progress finishes (and logs) before the process exits.
        reloads.shutdown(wait=True, cancel_futures=True)
        inbox.close()
    return 0


def _display_address(address: str, port: int) -> str:
    host = address.rpartition(":")[0] or "0.0.0.0"
    return f"{host}:{port}"
