"""Work classes: each kind of RPC gets its own threads and its own in-flight cap.

One shared pool let eight slow QuoteWorkload calls starve Route and the health check. Here
Route, RouteBatch, pricing, admin, health and the rest (reflection, Watch) each run on their
own executor (grpcio's per-handler `experimental_thread_pool`), and an interceptor admits an
RPC into its class on grpc's polling thread, before the body is read: over the class's cap
it is answered RESOURCE_EXHAUSTED at once (and counted), so no class can queue in front of
another and no queue grows without bound.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import grpc

from tierwise.server.metrics import Metrics

if TYPE_CHECKING:  # grpc-stubs makes it generic; the runtime class is not subscriptable
    _ServerInterceptor = grpc.ServerInterceptor[Any, Any]
else:
    _ServerInterceptor = grpc.ServerInterceptor


class WorkClass(enum.Enum):
    ROUTE = "route"
    BATCH = "batch"
    PRICING = "pricing"
    ADMIN = "admin"
    HEALTH = "health"
    # Reflection, health Watch streams, anything else: each of these holds a thread for as
    # long as its stream lasts, so they must not share the health check's threads.
    OTHER = "other"


_CLASS_OF_METHOD: Final[Mapping[str, WorkClass]] = {
    "tierwise.v1.RouterService/Route": WorkClass.ROUTE,
    "tierwise.v1.RouterService/RouteBatch": WorkClass.BATCH,
    "grpc.health.v1.Health/Check": WorkClass.HEALTH,
}
_CLASS_OF_SERVICE: Final[Mapping[str, WorkClass]] = {
    "tierwise.v1.PricingService": WorkClass.PRICING,
    "tierwise.v1.AdminService": WorkClass.ADMIN,
}


def class_of(method: str) -> WorkClass:
    """The work class of a full method name ("package.Service/Method")."""
    found = _CLASS_OF_METHOD.get(method)
    if found is not None:
        return found
    return _CLASS_OF_SERVICE.get(method.partition("/")[0], WorkClass.OTHER)


@dataclass(frozen=True)
class ClassLimits:
    """Threads of a class and the RPCs it admits at once (running + waiting for a thread)."""

    workers: int
    max_in_flight: int

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("workers: must be >= 1")
        if self.max_in_flight < self.workers:
            raise ValueError("max_in_flight: must be >= workers")


class _Lane:
    def __init__(self, work: WorkClass, limits: ClassLimits) -> None:
        self.limits = limits
        self.pool = ThreadPoolExecutor(
            max_workers=limits.workers, thread_name_prefix=f"tierwise-{work.value}"
        )
        self._lock = threading.Lock()
        self.in_flight = 0

    def try_enter(self) -> bool:
        with self._lock:
            if self.in_flight >= self.limits.max_in_flight:
                return False
            self.in_flight += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


def _reject(_request_iterator: Any, context: grpc.ServicerContext) -> None:
    context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "server busy: try another replica")


def _released(handler: grpc.RpcMethodHandler[Any, Any], release: Callable[[], None]) -> Any:
    """The same handler, calling `release` once the RPC's behaviour has finished."""
    if handler.request_streaming and handler.response_streaming:
        name, behaviour = "stream_stream", handler.stream_stream
    elif handler.request_streaming:
        name, behaviour = "stream_unary", handler.stream_unary
    elif handler.response_streaming:
        name, behaviour = "unary_stream", handler.unary_stream
    else:
        name, behaviour = "unary_unary", handler.unary_unary
    assert behaviour is not None

    if handler.response_streaming:

        def streaming(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            try:
                yield from behaviour(request, context)
            finally:
                release()

        wrapped: Callable[..., Any] = streaming
    else:

        def unary(request: Any, context: grpc.ServicerContext) -> Any:
            try:
                return behaviour(request, context)
            finally:
                release()

        wrapped = unary
    return wrapped, name


class WorkClasses:
    """The executors and in-flight counts of every class, and the rejection path."""

    def __init__(self, limits: Mapping[WorkClass, ClassLimits]) -> None:
        missing = set(WorkClass) - set(limits)
        if missing:
            raise ValueError(f"limits: missing {sorted(w.value for w in missing)}")
        self._lanes = {work: _Lane(work, limits[work]) for work in WorkClass}
        # Rejections need a thread too (grpc answers from one); one of their own, so a flood
        # of rejected calls costs microseconds each and delays no admitted class.
        self._reject_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tierwise-reject")
        rejection = grpc.stream_unary_rpc_method_handler(_reject)
        rejection.stream_unary.experimental_thread_pool = self._reject_pool  # type: ignore[union-attr]
        self._rejection = rejection

    def pool(self, work: WorkClass) -> ThreadPoolExecutor:
        return self._lanes[work].pool

    def in_flight(self, work: WorkClass) -> int:
        return self._lanes[work].in_flight

    def admit(self, method: str, handler: grpc.RpcMethodHandler[Any, Any]) -> Any:
        """The handler to run: `handler` on its class's pool, or the rejection when full."""
        lane = self._lanes[class_of(method)]
        if not lane.try_enter():
            return None
        behaviour, name = _released(handler, lane.leave)
        behaviour.experimental_thread_pool = lane.pool
        return handler._replace(**{name: behaviour})  # type: ignore[attr-defined]

    @property
    def rejection(self) -> grpc.RpcMethodHandler[Any, Any]:
        return self._rejection

    def shutdown(self) -> None:
        for lane in self._lanes.values():
            lane.pool.shutdown(wait=False, cancel_futures=True)
        self._reject_pool.shutdown(wait=False, cancel_futures=True)


class Admission(_ServerInterceptor):
    """Admits each RPC into its work class on grpc's polling thread (before the body is read).

    Unknown methods and rejections are counted here, the rest by the handlers' guard: every
    answer is in `tierwise_requests_total`, with the method label from a fixed set."""

    def __init__(self, classes: WorkClasses, metrics: Metrics) -> None:
        self._classes = classes
        self._metrics = metrics

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Any],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        method = str(handler_call_details.method).lstrip("/")
        handler = continuation(handler_call_details)
        if handler is None:  # grpc answers UNIMPLEMENTED
            self._metrics.observe_rpc(method, "UNIMPLEMENTED", 0.0)
            return None
        admitted = self._classes.admit(method, handler)
        if admitted is None:
            self._metrics.observe_rpc(method, "RESOURCE_EXHAUSTED", 0.0)
            return self._classes.rejection
        return admitted
