"""AdminService: reload and inspect the routing policy; reload the latency figures."""

from __future__ import annotations

import grpc
import structlog

from tierwise.server.errors import LatencyTableError
from tierwise.server.metrics import Metrics
from tierwise.server.routing.latency import LatencyHolder
from tierwise.server.routing.policy import PolicyHolder, parse_policy
from tierwise.server.rpc.status import rpc_errors
from tierwise.v1 import admin_pb2, admin_pb2_grpc

_log = structlog.get_logger("tierwise.server")


def reload_policy(holder: PolicyHolder, metrics: Metrics, policy_toml: str = "") -> tuple[str, str]:
    """Validate and activate a policy (empty text: re-read the configured file).

    Returns (new version, previous version). On error the old policy keeps serving, the error
    is counted and logged, and the exception propagates."""
    try:
        if policy_toml:
            previous = holder.replace(parse_policy(policy_toml, "<reload request>"))
        else:
            previous = holder.reload_from_file()
    except Exception as error:
        metrics.policy_reloads.labels(result="rejected").inc()
        _log.warning("policy.rejected", error=str(error), active=holder.current.version)
        raise
    metrics.policy_reloads.labels(result="applied").inc()
    _log.info("policy.applied", version=holder.current.version, previous=previous.version)
    return holder.current.version, previous.version


def reload_latency(
    holder: LatencyHolder, metrics: Metrics, latency_toml: str = ""
) -> tuple[str, str]:
    """Validate and activate latency figures (empty text: re-read the configured files).

    Returns (new version, previous version). On error the old figures keep serving, the error
    is counted and logged, and the exception propagates."""
    try:
        inline = bool(latency_toml)
        previous = holder.replace_text(latency_toml) if inline else holder.reload_from_file()
    except Exception as error:
        metrics.latency_reloads.labels(result="rejected").inc()
        _log.warning("latency.rejected", error=str(error), active=holder.current.version)
        raise
    metrics.latency_reloads.labels(result="applied").inc()
    _log.info("latency.applied", version=holder.current.version, previous=previous.version)
    return holder.current.version, previous.version


class AdminService(admin_pb2_grpc.AdminServiceServicer):
    def __init__(
        self, policies: PolicyHolder, metrics: Metrics, latency: LatencyHolder | None = None
    ) -> None:
        self._policies = policies
        self._metrics = metrics
        self._latency = latency

    def ReloadPolicy(
        self, request: admin_pb2.ReloadPolicyRequest, context: grpc.ServicerContext
    ) -> admin_pb2.ReloadPolicyResponse:
        with rpc_errors(context):
            version, previous = reload_policy(self._policies, self._metrics, request.policy_toml)
            return admin_pb2.ReloadPolicyResponse(
                policy_version=version, previous_policy_version=previous
            )

    def ReloadLatency(
        self, request: admin_pb2.ReloadLatencyRequest, context: grpc.ServicerContext
    ) -> admin_pb2.ReloadLatencyResponse:
        with rpc_errors(context):
            if self._latency is None:
                raise LatencyTableError("this AdminService was built without latency figures")
            version, previous = reload_latency(self._latency, self._metrics, request.latency_toml)
            return admin_pb2.ReloadLatencyResponse(
                latency_version=version, previous_latency_version=previous
            )

    def GetPolicy(
        self, request: admin_pb2.GetPolicyRequest, context: grpc.ServicerContext
    ) -> admin_pb2.GetPolicyResponse:
        policy = self._policies.current
        return admin_pb2.GetPolicyResponse(
            policy_version=policy.version, policy_toml=policy.source_text
        )
