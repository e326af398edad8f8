from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RoutingStrategy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROUTING_STRATEGY_UNSPECIFIED: _ClassVar[RoutingStrategy]
    ROUTING_STRATEGY_CLASSIFIER: _ClassVar[RoutingStrategy]
    ROUTING_STRATEGY_CASCADE: _ClassVar[RoutingStrategy]
    ROUTING_STRATEGY_HYBRID: _ClassVar[RoutingStrategy]

class ReasonCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REASON_CODE_UNSPECIFIED: _ClassVar[ReasonCode]
    REASON_CODE_CHEAPEST_MEETING_TARGET: _ClassVar[ReasonCode]
    REASON_CODE_NONE_MEETS_TARGET: _ClassVar[ReasonCode]
    REASON_CODE_BUDGET_LIMITED: _ClassVar[ReasonCode]
    REASON_CODE_FAIL_OPEN: _ClassVar[ReasonCode]
    REASON_CODE_TTFT_LIMITED: _ClassVar[ReasonCode]
    REASON_CODE_LATENCY_LIMITED: _ClassVar[ReasonCode]
    REASON_CODE_SPEED_LIMITED: _ClassVar[ReasonCode]
    REASON_CODE_NONE_MEETS_LATENCY: _ClassVar[ReasonCode]
    REASON_CODE_PLAN: _ClassVar[ReasonCode]
ROUTING_STRATEGY_UNSPECIFIED: RoutingStrategy
ROUTING_STRATEGY_CLASSIFIER: RoutingStrategy
ROUTING_STRATEGY_CASCADE: RoutingStrategy
ROUTING_STRATEGY_HYBRID: RoutingStrategy
REASON_CODE_UNSPECIFIED: ReasonCode
REASON_CODE_CHEAPEST_MEETING_TARGET: ReasonCode
REASON_CODE_NONE_MEETS_TARGET: ReasonCode
REASON_CODE_BUDGET_LIMITED: ReasonCode
REASON_CODE_FAIL_OPEN: ReasonCode
REASON_CODE_TTFT_LIMITED: ReasonCode
REASON_CODE_LATENCY_LIMITED: ReasonCode
REASON_CODE_SPEED_LIMITED: ReasonCode
REASON_CODE_NONE_MEETS_LATENCY: ReasonCode
REASON_CODE_PLAN: ReasonCode

class ChatMessage(_message.Message):
    __slots__ = ("role", "content")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    role: str
    content: str
    def __init__(self, role: _Optional[str] = ..., content: _Optional[str] = ...) -> None: ...

class ChatMessages(_message.Message):
    __slots__ = ("messages",)
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[ChatMessage]
    def __init__(self, messages: _Optional[_Iterable[_Union[ChatMessage, _Mapping]]] = ...) -> None: ...

class RouteRequest(_message.Message):
    __slots__ = ("query", "chat", "input_tokens", "output_tokens", "quality_target", "allowed_tiers", "max_cost_usd", "cache_read_tokens", "batch", "caller", "feature", "max_ttft_ms", "max_latency_ms", "min_output_tokens_per_s", "strategy")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    CHAT_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    QUALITY_TARGET_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_TIERS_FIELD_NUMBER: _ClassVar[int]
    MAX_COST_USD_FIELD_NUMBER: _ClassVar[int]
    CACHE_READ_TOKENS_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    CALLER_FIELD_NUMBER: _ClassVar[int]
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    MAX_TTFT_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    MIN_OUTPUT_TOKENS_PER_S_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    query: str
    chat: ChatMessages
    input_tokens: int
    output_tokens: int
    quality_target: float
    allowed_tiers: _containers.RepeatedScalarFieldContainer[str]
    max_cost_usd: float
    cache_read_tokens: int
    batch: bool
    caller: str
    feature: str
    max_ttft_ms: float
    max_latency_ms: float
    min_output_tokens_per_s: float
    strategy: RoutingStrategy
    def __init__(self, query: _Optional[str] = ..., chat: _Optional[_Union[ChatMessages, _Mapping]] = ..., input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., quality_target: _Optional[float] = ..., allowed_tiers: _Optional[_Iterable[str]] = ..., max_cost_usd: _Optional[float] = ..., cache_read_tokens: _Optional[int] = ..., batch: _Optional[bool] = ..., caller: _Optional[str] = ..., feature: _Optional[str] = ..., max_ttft_ms: _Optional[float] = ..., max_latency_ms: _Optional[float] = ..., min_output_tokens_per_s: _Optional[float] = ..., strategy: _Optional[_Union[RoutingStrategy, str]] = ...) -> None: ...

class TierEstimate(_message.Message):
    __slots__ = ("tier", "model", "p_success", "predicted_output_tokens", "quoted_usd", "allowed", "meets_target", "within_budget", "ttft_ms", "output_tokens_per_s", "latency_ms", "ttft_ms_p90", "latency_ms_p90", "meets_latency", "latency_source")
    TIER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    P_SUCCESS_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    QUOTED_USD_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    MEETS_TARGET_FIELD_NUMBER: _ClassVar[int]
    WITHIN_BUDGET_FIELD_NUMBER: _ClassVar[int]
    TTFT_MS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_PER_S_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    TTFT_MS_P90_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_P90_FIELD_NUMBER: _ClassVar[int]
    MEETS_LATENCY_FIELD_NUMBER: _ClassVar[int]
    LATENCY_SOURCE_FIELD_NUMBER: _ClassVar[int]
    tier: str
    model: str
    p_success: float
    predicted_output_tokens: int
    quoted_usd: float
    allowed: bool
    meets_target: bool
    within_budget: bool
    ttft_ms: float
    output_tokens_per_s: float
    latency_ms: float
    ttft_ms_p90: float
    latency_ms_p90: float
    meets_latency: bool
    latency_source: str
    def __init__(self, tier: _Optional[str] = ..., model: _Optional[str] = ..., p_success: _Optional[float] = ..., predicted_output_tokens: _Optional[int] = ..., quoted_usd: _Optional[float] = ..., allowed: _Optional[bool] = ..., meets_target: _Optional[bool] = ..., within_budget: _Optional[bool] = ..., ttft_ms: _Optional[float] = ..., output_tokens_per_s: _Optional[float] = ..., latency_ms: _Optional[float] = ..., ttft_ms_p90: _Optional[float] = ..., latency_ms_p90: _Optional[float] = ..., meets_latency: _Optional[bool] = ..., latency_source: _Optional[str] = ...) -> None: ...

class PlanStep(_message.Message):
    __slots__ = ("tier", "model", "accept_threshold", "p_reached", "quoted_usd", "latency_ms")
    TIER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ACCEPT_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    P_REACHED_FIELD_NUMBER: _ClassVar[int]
    QUOTED_USD_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    tier: str
    model: str
    accept_threshold: float
    p_reached: float
    quoted_usd: float
    latency_ms: float
    def __init__(self, tier: _Optional[str] = ..., model: _Optional[str] = ..., accept_threshold: _Optional[float] = ..., p_reached: _Optional[float] = ..., quoted_usd: _Optional[float] = ..., latency_ms: _Optional[float] = ...) -> None: ...

class RoutePlan(_message.Message):
    __slots__ = ("strategy", "steps", "expected_cost_usd", "expected_quality", "expected_latency_ms")
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_COST_USD_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_QUALITY_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    strategy: RoutingStrategy
    steps: _containers.RepeatedCompositeFieldContainer[PlanStep]
    expected_cost_usd: float
    expected_quality: float
    expected_latency_ms: float
    def __init__(self, strategy: _Optional[_Union[RoutingStrategy, str]] = ..., steps: _Optional[_Iterable[_Union[PlanStep, _Mapping]]] = ..., expected_cost_usd: _Optional[float] = ..., expected_quality: _Optional[float] = ..., expected_latency_ms: _Optional[float] = ...) -> None: ...

class RouteResponse(_message.Message):
    __slots__ = ("tier", "model", "difficulty", "estimates", "reason_code", "reason", "escalated", "out_of_distribution", "truncated", "input_tokens", "quality_target", "router_version", "table_version", "policy_version", "encoder", "decision_id", "strategy", "plan", "latency_constraints")
    TIER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    DIFFICULTY_FIELD_NUMBER: _ClassVar[int]
    ESTIMATES_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ESCALATED_FIELD_NUMBER: _ClassVar[int]
    OUT_OF_DISTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    QUALITY_TARGET_FIELD_NUMBER: _ClassVar[int]
    ROUTER_VERSION_FIELD_NUMBER: _ClassVar[int]
    TABLE_VERSION_FIELD_NUMBER: _ClassVar[int]
    POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    ENCODER_FIELD_NUMBER: _ClassVar[int]
    DECISION_ID_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    LATENCY_CONSTRAINTS_FIELD_NUMBER: _ClassVar[int]
    tier: str
    model: str
    difficulty: float
    estimates: _containers.RepeatedCompositeFieldContainer[TierEstimate]
    reason_code: ReasonCode
    reason: str
    escalated: bool
    out_of_distribution: bool
    truncated: bool
    input_tokens: int
    quality_target: float
    router_version: str
    table_version: str
    policy_version: str
    encoder: str
    decision_id: str
    strategy: RoutingStrategy
    plan: RoutePlan
    latency_constraints: LatencyConstraints
    def __init__(self, tier: _Optional[str] = ..., model: _Optional[str] = ..., difficulty: _Optional[float] = ..., estimates: _Optional[_Iterable[_Union[TierEstimate, _Mapping]]] = ..., reason_code: _Optional[_Union[ReasonCode, str]] = ..., reason: _Optional[str] = ..., escalated: _Optional[bool] = ..., out_of_distribution: _Optional[bool] = ..., truncated: _Optional[bool] = ..., input_tokens: _Optional[int] = ..., quality_target: _Optional[float] = ..., router_version: _Optional[str] = ..., table_version: _Optional[str] = ..., policy_version: _Optional[str] = ..., encoder: _Optional[str] = ..., decision_id: _Optional[str] = ..., strategy: _Optional[_Union[RoutingStrategy, str]] = ..., plan: _Optional[_Union[RoutePlan, _Mapping]] = ..., latency_constraints: _Optional[_Union[LatencyConstraints, _Mapping]] = ...) -> None: ...

class LatencyConstraints(_message.Message):
    __slots__ = ("max_ttft_ms", "max_latency_ms", "min_output_tokens_per_s")
    MAX_TTFT_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    MIN_OUTPUT_TOKENS_PER_S_FIELD_NUMBER: _ClassVar[int]
    max_ttft_ms: float
    max_latency_ms: float
    min_output_tokens_per_s: float
    def __init__(self, max_ttft_ms: _Optional[float] = ..., max_latency_ms: _Optional[float] = ..., min_output_tokens_per_s: _Optional[float] = ...) -> None: ...

class RouteBatchRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[RouteRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[RouteRequest, _Mapping]]] = ...) -> None: ...

class RouteBatchResponse(_message.Message):
    __slots__ = ("responses",)
    RESPONSES_FIELD_NUMBER: _ClassVar[int]
    responses: _containers.RepeatedCompositeFieldContainer[RouteResponse]
    def __init__(self, responses: _Optional[_Iterable[_Union[RouteResponse, _Mapping]]] = ...) -> None: ...
