from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RejectionReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REJECTION_REASON_UNSPECIFIED: _ClassVar[RejectionReason]
    REJECTION_REASON_UNKNOWN_DECISION: _ClassVar[RejectionReason]
    REJECTION_REASON_DUPLICATE: _ClassVar[RejectionReason]
    REJECTION_REASON_INVALID: _ClassVar[RejectionReason]
    REJECTION_REASON_OVERLOADED: _ClassVar[RejectionReason]
REJECTION_REASON_UNSPECIFIED: RejectionReason
REJECTION_REASON_UNKNOWN_DECISION: RejectionReason
REJECTION_REASON_DUPLICATE: RejectionReason
REJECTION_REASON_INVALID: RejectionReason
REJECTION_REASON_OVERLOADED: RejectionReason

class Attempt(_message.Message):
    __slots__ = ("tier", "score", "accepted", "cost_usd", "latency_ms", "quality", "error")
    TIER_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    COST_USD_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    tier: str
    score: float
    accepted: bool
    cost_usd: float
    latency_ms: float
    quality: float
    error: str
    def __init__(self, tier: _Optional[str] = ..., score: _Optional[float] = ..., accepted: _Optional[bool] = ..., cost_usd: _Optional[float] = ..., latency_ms: _Optional[float] = ..., quality: _Optional[float] = ..., error: _Optional[str] = ...) -> None: ...

class Outcome(_message.Message):
    __slots__ = ("decision_id", "attempts", "final_tier", "stop_reason", "caller", "feature")
    DECISION_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    FINAL_TIER_FIELD_NUMBER: _ClassVar[int]
    STOP_REASON_FIELD_NUMBER: _ClassVar[int]
    CALLER_FIELD_NUMBER: _ClassVar[int]
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    decision_id: str
    attempts: _containers.RepeatedCompositeFieldContainer[Attempt]
    final_tier: str
    stop_reason: str
    caller: str
    feature: str
    def __init__(self, decision_id: _Optional[str] = ..., attempts: _Optional[_Iterable[_Union[Attempt, _Mapping]]] = ..., final_tier: _Optional[str] = ..., stop_reason: _Optional[str] = ..., caller: _Optional[str] = ..., feature: _Optional[str] = ...) -> None: ...

class ReportOutcomesRequest(_message.Message):
    __slots__ = ("outcomes",)
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    outcomes: _containers.RepeatedCompositeFieldContainer[Outcome]
    def __init__(self, outcomes: _Optional[_Iterable[_Union[Outcome, _Mapping]]] = ...) -> None: ...

class Rejection(_message.Message):
    __slots__ = ("index", "decision_id", "reason", "message")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    DECISION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    index: int
    decision_id: str
    reason: RejectionReason
    message: str
    def __init__(self, index: _Optional[int] = ..., decision_id: _Optional[str] = ..., reason: _Optional[_Union[RejectionReason, str]] = ..., message: _Optional[str] = ...) -> None: ...

class ReportOutcomesResponse(_message.Message):
    __slots__ = ("accepted", "rejected")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    rejected: _containers.RepeatedCompositeFieldContainer[Rejection]
    def __init__(self, accepted: _Optional[int] = ..., rejected: _Optional[_Iterable[_Union[Rejection, _Mapping]]] = ...) -> None: ...
