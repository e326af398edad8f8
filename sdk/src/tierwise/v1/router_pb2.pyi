from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReasonCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REASON_CODE_UNSPECIFIED: _ClassVar[ReasonCode]
    REASON_CODE_CHEAPEST_MEETING_TARGET: _ClassVar[ReasonCode]
    REASON_CODE_NONE_MEETS_TARGET: _ClassVar[ReasonCode]
    REASON_CODE_BUDGET_LIMITED: _ClassVar[ReasonCode]
    REASON_CODE_FAIL_OPEN: _ClassVar[ReasonCode]
REASON_CODE_UNSPECIFIED: ReasonCode
REASON_CODE_CHEAPEST_MEETING_TARGET: ReasonCode
REASON_CODE_NONE_MEETS_TARGET: ReasonCode
REASON_CODE_BUDGET_LIMITED: ReasonCode
REASON_CODE_FAIL_OPEN: ReasonCode

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
    __slots__ = ("query", "chat", "input_tokens", "output_tokens", "quality_target", "allowed_tiers", "max_cost_usd", "cache_read_tokens", "batch", "caller", "feature")
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
    def __init__(self, query: _Optional[str] = ..., chat: _Optional[_Union[ChatMessages, _Mapping]] = ..., input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., quality_target: _Optional[float] = ..., allowed_tiers: _Optional[_Iterable[str]] = ..., max_cost_usd: _Optional[float] = ..., cache_read_tokens: _Optional[int] = ..., batch: _Optional[bool] = ..., caller: _Optional[str] = ..., feature: _Optional[str] = ...) -> None: ...

class TierEstimate(_message.Message):
    __slots__ = ("tier", "model", "p_success", "predicted_output_tokens", "quoted_usd", "allowed", "meets_target", "within_budget")
    TIER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    P_SUCCESS_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    QUOTED_USD_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    MEETS_TARGET_FIELD_NUMBER: _ClassVar[int]
    WITHIN_BUDGET_FIELD_NUMBER: _ClassVar[int]
    tier: str
    model: str
    p_success: float
    predicted_output_tokens: int
    quoted_usd: float
    allowed: bool
    meets_target: bool
    within_budget: bool
    def __init__(self, tier: _Optional[str] = ..., model: _Optional[str] = ..., p_success: _Optional[float] = ..., predicted_output_tokens: _Optional[int] = ..., quoted_usd: _Optional[float] = ..., allowed: _Optional[bool] = ..., meets_target: _Optional[bool] = ..., within_budget: _Optional[bool] = ...) -> None: ...

class RouteResponse(_message.Message):
    __slots__ = ("tier", "model", "difficulty", "estimates", "reason_code", "reason", "escalated", "out_of_distribution", "truncated", "input_tokens", "quality_target", "router_version", "table_version", "policy_version", "encoder")
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
    def __init__(self, tier: _Optional[str] = ..., model: _Optional[str] = ..., difficulty: _Optional[float] = ..., estimates: _Optional[_Iterable[_Union[TierEstimate, _Mapping]]] = ..., reason_code: _Optional[_Union[ReasonCode, str]] = ..., reason: _Optional[str] = ..., escalated: _Optional[bool] = ..., out_of_distribution: _Optional[bool] = ..., truncated: _Optional[bool] = ..., input_tokens: _Optional[int] = ..., quality_target: _Optional[float] = ..., router_version: _Optional[str] = ..., table_version: _Optional[str] = ..., policy_version: _Optional[str] = ..., encoder: _Optional[str] = ...) -> None: ...

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
