from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PurchaseOption(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PURCHASE_OPTION_UNSPECIFIED: _ClassVar[PurchaseOption]
    PURCHASE_OPTION_ON_DEMAND: _ClassVar[PurchaseOption]
    PURCHASE_OPTION_RESERVED: _ClassVar[PurchaseOption]
    PURCHASE_OPTION_SPOT: _ClassVar[PurchaseOption]

class TierKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TIER_KIND_UNSPECIFIED: _ClassVar[TierKind]
    TIER_KIND_API: _ClassVar[TierKind]
    TIER_KIND_SELF_HOSTED: _ClassVar[TierKind]
PURCHASE_OPTION_UNSPECIFIED: PurchaseOption
PURCHASE_OPTION_ON_DEMAND: PurchaseOption
PURCHASE_OPTION_RESERVED: PurchaseOption
PURCHASE_OPTION_SPOT: PurchaseOption
TIER_KIND_UNSPECIFIED: TierKind
TIER_KIND_API: TierKind
TIER_KIND_SELF_HOSTED: TierKind

class TokenUsage(_message.Message):
    __slots__ = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens", "batch")
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_READ_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_WRITE_5M_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_WRITE_1H_TOKENS_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_5m_tokens: int
    cache_write_1h_tokens: int
    batch: bool
    def __init__(self, input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., cache_read_tokens: _Optional[int] = ..., cache_write_5m_tokens: _Optional[int] = ..., cache_write_1h_tokens: _Optional[int] = ..., batch: _Optional[bool] = ...) -> None: ...

class QuoteRequest(_message.Message):
    __slots__ = ("tier", "usage")
    TIER_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    tier: str
    usage: TokenUsage
    def __init__(self, tier: _Optional[str] = ..., usage: _Optional[_Union[TokenUsage, _Mapping]] = ...) -> None: ...

class RequestQuote(_message.Message):
    __slots__ = ("tier", "model", "input_usd", "cache_write_usd", "cache_read_usd", "output_usd", "subtotal_usd", "batch_discount_usd", "total_usd", "energy_wh", "long_context_pricing", "notes")
    TIER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    INPUT_USD_FIELD_NUMBER: _ClassVar[int]
    CACHE_WRITE_USD_FIELD_NUMBER: _ClassVar[int]
    CACHE_READ_USD_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_USD_FIELD_NUMBER: _ClassVar[int]
    SUBTOTAL_USD_FIELD_NUMBER: _ClassVar[int]
    BATCH_DISCOUNT_USD_FIELD_NUMBER: _ClassVar[int]
    TOTAL_USD_FIELD_NUMBER: _ClassVar[int]
    ENERGY_WH_FIELD_NUMBER: _ClassVar[int]
    LONG_CONTEXT_PRICING_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    tier: str
    model: str
    input_usd: float
    cache_write_usd: float
    cache_read_usd: float
    output_usd: float
    subtotal_usd: float
    batch_discount_usd: float
    total_usd: float
    energy_wh: float
    long_context_pricing: bool
    notes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, tier: _Optional[str] = ..., model: _Optional[str] = ..., input_usd: _Optional[float] = ..., cache_write_usd: _Optional[float] = ..., cache_read_usd: _Optional[float] = ..., output_usd: _Optional[float] = ..., subtotal_usd: _Optional[float] = ..., batch_discount_usd: _Optional[float] = ..., total_usd: _Optional[float] = ..., energy_wh: _Optional[float] = ..., long_context_pricing: _Optional[bool] = ..., notes: _Optional[_Iterable[str]] = ...) -> None: ...

class QuoteResponse(_message.Message):
    __slots__ = ("quotes", "table_version")
    QUOTES_FIELD_NUMBER: _ClassVar[int]
    TABLE_VERSION_FIELD_NUMBER: _ClassVar[int]
    quotes: _containers.RepeatedCompositeFieldContainer[RequestQuote]
    table_version: str
    def __init__(self, quotes: _Optional[_Iterable[_Union[RequestQuote, _Mapping]]] = ..., table_version: _Optional[str] = ...) -> None: ...

class TokenBucket(_message.Message):
    __slots__ = ("tokens", "weight")
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    tokens: int
    weight: float
    def __init__(self, tokens: _Optional[int] = ..., weight: _Optional[float] = ...) -> None: ...

class TokenDistribution(_message.Message):
    __slots__ = ("mean", "histogram")
    MEAN_FIELD_NUMBER: _ClassVar[int]
    HISTOGRAM_FIELD_NUMBER: _ClassVar[int]
    mean: float
    histogram: TokenHistogram
    def __init__(self, mean: _Optional[float] = ..., histogram: _Optional[_Union[TokenHistogram, _Mapping]] = ...) -> None: ...

class TokenHistogram(_message.Message):
    __slots__ = ("buckets",)
    BUCKETS_FIELD_NUMBER: _ClassVar[int]
    buckets: _containers.RepeatedCompositeFieldContainer[TokenBucket]
    def __init__(self, buckets: _Optional[_Iterable[_Union[TokenBucket, _Mapping]]] = ...) -> None: ...

class Workload(_message.Message):
    __slots__ = ("calls_per_month", "input_tokens", "output_tokens", "cache_hit_rate", "batch_share", "routed_mix", "self_hosted_fixed_usd_per_month", "peak_to_average", "hourly_profile", "autoscale", "purchase", "cascade")
    class RoutedMixEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    CALLS_PER_MONTH_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_HIT_RATE_FIELD_NUMBER: _ClassVar[int]
    BATCH_SHARE_FIELD_NUMBER: _ClassVar[int]
    ROUTED_MIX_FIELD_NUMBER: _ClassVar[int]
    SELF_HOSTED_FIXED_USD_PER_MONTH_FIELD_NUMBER: _ClassVar[int]
    PEAK_TO_AVERAGE_FIELD_NUMBER: _ClassVar[int]
    HOURLY_PROFILE_FIELD_NUMBER: _ClassVar[int]
    AUTOSCALE_FIELD_NUMBER: _ClassVar[int]
    PURCHASE_FIELD_NUMBER: _ClassVar[int]
    CASCADE_FIELD_NUMBER: _ClassVar[int]
    calls_per_month: float
    input_tokens: TokenDistribution
    output_tokens: TokenDistribution
    cache_hit_rate: float
    batch_share: float
    routed_mix: _containers.ScalarMap[str, float]
    self_hosted_fixed_usd_per_month: float
    peak_to_average: float
    hourly_profile: _containers.RepeatedScalarFieldContainer[float]
    autoscale: bool
    purchase: PurchaseOption
    cascade: CascadeMix
    def __init__(self, calls_per_month: _Optional[float] = ..., input_tokens: _Optional[_Union[TokenDistribution, _Mapping]] = ..., output_tokens: _Optional[_Union[TokenDistribution, _Mapping]] = ..., cache_hit_rate: _Optional[float] = ..., batch_share: _Optional[float] = ..., routed_mix: _Optional[_Mapping[str, float]] = ..., self_hosted_fixed_usd_per_month: _Optional[float] = ..., peak_to_average: _Optional[float] = ..., hourly_profile: _Optional[_Iterable[float]] = ..., autoscale: _Optional[bool] = ..., purchase: _Optional[_Union[PurchaseOption, str]] = ..., cascade: _Optional[_Union[CascadeMix, _Mapping]] = ...) -> None: ...

class CascadeStep(_message.Message):
    __slots__ = ("tier", "escalation_rate")
    TIER_FIELD_NUMBER: _ClassVar[int]
    ESCALATION_RATE_FIELD_NUMBER: _ClassVar[int]
    tier: str
    escalation_rate: float
    def __init__(self, tier: _Optional[str] = ..., escalation_rate: _Optional[float] = ...) -> None: ...

class CascadeMix(_message.Message):
    __slots__ = ("steps", "start_mix")
    class StartMixEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    STEPS_FIELD_NUMBER: _ClassVar[int]
    START_MIX_FIELD_NUMBER: _ClassVar[int]
    steps: _containers.RepeatedCompositeFieldContainer[CascadeStep]
    start_mix: _containers.ScalarMap[str, float]
    def __init__(self, steps: _Optional[_Iterable[_Union[CascadeStep, _Mapping]]] = ..., start_mix: _Optional[_Mapping[str, float]] = ...) -> None: ...

class QuoteWorkloadRequest(_message.Message):
    __slots__ = ("workload",)
    WORKLOAD_FIELD_NUMBER: _ClassVar[int]
    workload: Workload
    def __init__(self, workload: _Optional[_Union[Workload, _Mapping]] = ...) -> None: ...

class MonthlyCost(_message.Message):
    __slots__ = ("tier", "model", "monthly_usd", "usd_per_call", "input_usd", "output_usd", "cache_usd", "batch_discount_usd", "instances", "utilisation", "fixed_usd", "idle_usd", "mean_instances", "purchase", "failed_attempts_usd", "attempts_per_call", "reached_share")
    class ReachedShareEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    TIER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_USD_FIELD_NUMBER: _ClassVar[int]
    USD_PER_CALL_FIELD_NUMBER: _ClassVar[int]
    INPUT_USD_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_USD_FIELD_NUMBER: _ClassVar[int]
    CACHE_USD_FIELD_NUMBER: _ClassVar[int]
    BATCH_DISCOUNT_USD_FIELD_NUMBER: _ClassVar[int]
    INSTANCES_FIELD_NUMBER: _ClassVar[int]
    UTILISATION_FIELD_NUMBER: _ClassVar[int]
    FIXED_USD_FIELD_NUMBER: _ClassVar[int]
    IDLE_USD_FIELD_NUMBER: _ClassVar[int]
    MEAN_INSTANCES_FIELD_NUMBER: _ClassVar[int]
    PURCHASE_FIELD_NUMBER: _ClassVar[int]
    FAILED_ATTEMPTS_USD_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_PER_CALL_FIELD_NUMBER: _ClassVar[int]
    REACHED_SHARE_FIELD_NUMBER: _ClassVar[int]
    tier: str
    model: str
    monthly_usd: float
    usd_per_call: float
    input_usd: float
    output_usd: float
    cache_usd: float
    batch_discount_usd: float
    instances: int
    utilisation: float
    fixed_usd: float
    idle_usd: float
    mean_instances: float
    purchase: PurchaseOption
    failed_attempts_usd: float
    attempts_per_call: float
    reached_share: _containers.ScalarMap[str, float]
    def __init__(self, tier: _Optional[str] = ..., model: _Optional[str] = ..., monthly_usd: _Optional[float] = ..., usd_per_call: _Optional[float] = ..., input_usd: _Optional[float] = ..., output_usd: _Optional[float] = ..., cache_usd: _Optional[float] = ..., batch_discount_usd: _Optional[float] = ..., instances: _Optional[int] = ..., utilisation: _Optional[float] = ..., fixed_usd: _Optional[float] = ..., idle_usd: _Optional[float] = ..., mean_instances: _Optional[float] = ..., purchase: _Optional[_Union[PurchaseOption, str]] = ..., failed_attempts_usd: _Optional[float] = ..., attempts_per_call: _Optional[float] = ..., reached_share: _Optional[_Mapping[str, float]] = ...) -> None: ...

class BreakEven(_message.Message):
    __slots__ = ("api_tier", "self_hosted_tier", "calls_per_month", "monthly_usd_at_break_even")
    API_TIER_FIELD_NUMBER: _ClassVar[int]
    SELF_HOSTED_TIER_FIELD_NUMBER: _ClassVar[int]
    CALLS_PER_MONTH_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_USD_AT_BREAK_EVEN_FIELD_NUMBER: _ClassVar[int]
    api_tier: str
    self_hosted_tier: str
    calls_per_month: float
    monthly_usd_at_break_even: float
    def __init__(self, api_tier: _Optional[str] = ..., self_hosted_tier: _Optional[str] = ..., calls_per_month: _Optional[float] = ..., monthly_usd_at_break_even: _Optional[float] = ...) -> None: ...

class PurchaseComparison(_message.Message):
    __slots__ = ("tier", "purchase", "usd_per_gpu_hour", "monthly_usd", "instances", "mean_instances", "utilisation", "idle_usd", "autoscaled")
    TIER_FIELD_NUMBER: _ClassVar[int]
    PURCHASE_FIELD_NUMBER: _ClassVar[int]
    USD_PER_GPU_HOUR_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_USD_FIELD_NUMBER: _ClassVar[int]
    INSTANCES_FIELD_NUMBER: _ClassVar[int]
    MEAN_INSTANCES_FIELD_NUMBER: _ClassVar[int]
    UTILISATION_FIELD_NUMBER: _ClassVar[int]
    IDLE_USD_FIELD_NUMBER: _ClassVar[int]
    AUTOSCALED_FIELD_NUMBER: _ClassVar[int]
    tier: str
    purchase: PurchaseOption
    usd_per_gpu_hour: float
    monthly_usd: float
    instances: int
    mean_instances: float
    utilisation: float
    idle_usd: float
    autoscaled: bool
    def __init__(self, tier: _Optional[str] = ..., purchase: _Optional[_Union[PurchaseOption, str]] = ..., usd_per_gpu_hour: _Optional[float] = ..., monthly_usd: _Optional[float] = ..., instances: _Optional[int] = ..., mean_instances: _Optional[float] = ..., utilisation: _Optional[float] = ..., idle_usd: _Optional[float] = ..., autoscaled: _Optional[bool] = ...) -> None: ...

class QuoteWorkloadResponse(_message.Message):
    __slots__ = ("tiers", "routed", "break_even", "table_version", "purchase_options", "purchase", "peak_factor", "cascade")
    TIERS_FIELD_NUMBER: _ClassVar[int]
    ROUTED_FIELD_NUMBER: _ClassVar[int]
    BREAK_EVEN_FIELD_NUMBER: _ClassVar[int]
    TABLE_VERSION_FIELD_NUMBER: _ClassVar[int]
    PURCHASE_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    PURCHASE_FIELD_NUMBER: _ClassVar[int]
    PEAK_FACTOR_FIELD_NUMBER: _ClassVar[int]
    CASCADE_FIELD_NUMBER: _ClassVar[int]
    tiers: _containers.RepeatedCompositeFieldContainer[MonthlyCost]
    routed: MonthlyCost
    break_even: _containers.RepeatedCompositeFieldContainer[BreakEven]
    table_version: str
    purchase_options: _containers.RepeatedCompositeFieldContainer[PurchaseComparison]
    purchase: PurchaseOption
    peak_factor: float
    cascade: MonthlyCost
    def __init__(self, tiers: _Optional[_Iterable[_Union[MonthlyCost, _Mapping]]] = ..., routed: _Optional[_Union[MonthlyCost, _Mapping]] = ..., break_even: _Optional[_Iterable[_Union[BreakEven, _Mapping]]] = ..., table_version: _Optional[str] = ..., purchase_options: _Optional[_Iterable[_Union[PurchaseComparison, _Mapping]]] = ..., purchase: _Optional[_Union[PurchaseOption, str]] = ..., peak_factor: _Optional[float] = ..., cascade: _Optional[_Union[MonthlyCost, _Mapping]] = ...) -> None: ...

class ListTiersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Provenance(_message.Message):
    __slots__ = ("source", "as_of", "note")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    source: str
    as_of: str
    note: str
    def __init__(self, source: _Optional[str] = ..., as_of: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class LongContextRule(_message.Message):
    __slots__ = ("threshold_input_tokens", "usd_per_mtok_input", "usd_per_mtok_output")
    THRESHOLD_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    USD_PER_MTOK_INPUT_FIELD_NUMBER: _ClassVar[int]
    USD_PER_MTOK_OUTPUT_FIELD_NUMBER: _ClassVar[int]
    threshold_input_tokens: int
    usd_per_mtok_input: float
    usd_per_mtok_output: float
    def __init__(self, threshold_input_tokens: _Optional[int] = ..., usd_per_mtok_input: _Optional[float] = ..., usd_per_mtok_output: _Optional[float] = ...) -> None: ...

class HardwareDerivation(_message.Message):
    __slots__ = ("model", "gpu", "gpus", "precision", "batch", "usd_per_gpu_hour", "output_tokens_per_s_per_gpu", "input_tokens_per_s_per_gpu", "tokens_per_s_per_user", "wh_per_query", "explanation", "ttft_ms", "ttft_ms_p90", "slo_min_tokens_per_s_per_user", "slo_max_ttft_ms", "target_load", "binding", "max_batch")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    GPU_FIELD_NUMBER: _ClassVar[int]
    GPUS_FIELD_NUMBER: _ClassVar[int]
    PRECISION_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    USD_PER_GPU_HOUR_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_PER_S_PER_GPU_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_PER_S_PER_GPU_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_S_PER_USER_FIELD_NUMBER: _ClassVar[int]
    WH_PER_QUERY_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    TTFT_MS_FIELD_NUMBER: _ClassVar[int]
    TTFT_MS_P90_FIELD_NUMBER: _ClassVar[int]
    SLO_MIN_TOKENS_PER_S_PER_USER_FIELD_NUMBER: _ClassVar[int]
    SLO_MAX_TTFT_MS_FIELD_NUMBER: _ClassVar[int]
    TARGET_LOAD_FIELD_NUMBER: _ClassVar[int]
    BINDING_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_FIELD_NUMBER: _ClassVar[int]
    model: str
    gpu: str
    gpus: int
    precision: str
    batch: int
    usd_per_gpu_hour: float
    output_tokens_per_s_per_gpu: float
    input_tokens_per_s_per_gpu: float
    tokens_per_s_per_user: float
    wh_per_query: float
    explanation: _containers.RepeatedScalarFieldContainer[str]
    ttft_ms: float
    ttft_ms_p90: float
    slo_min_tokens_per_s_per_user: float
    slo_max_ttft_ms: float
    target_load: float
    binding: str
    max_batch: int
    def __init__(self, model: _Optional[str] = ..., gpu: _Optional[str] = ..., gpus: _Optional[int] = ..., precision: _Optional[str] = ..., batch: _Optional[int] = ..., usd_per_gpu_hour: _Optional[float] = ..., output_tokens_per_s_per_gpu: _Optional[float] = ..., input_tokens_per_s_per_gpu: _Optional[float] = ..., tokens_per_s_per_user: _Optional[float] = ..., wh_per_query: _Optional[float] = ..., explanation: _Optional[_Iterable[str]] = ..., ttft_ms: _Optional[float] = ..., ttft_ms_p90: _Optional[float] = ..., slo_min_tokens_per_s_per_user: _Optional[float] = ..., slo_max_ttft_ms: _Optional[float] = ..., target_load: _Optional[float] = ..., binding: _Optional[str] = ..., max_batch: _Optional[int] = ...) -> None: ...

class Tier(_message.Message):
    __slots__ = ("id", "model", "display_name", "kind", "usd_per_mtok_input", "usd_per_mtok_output", "cache_write_5m_multiplier", "cache_write_1h_multiplier", "cache_read_multiplier", "batch_discount", "long_context", "min_cacheable_tokens", "provenance", "derivation")
    ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    USD_PER_MTOK_INPUT_FIELD_NUMBER: _ClassVar[int]
    USD_PER_MTOK_OUTPUT_FIELD_NUMBER: _ClassVar[int]
    CACHE_WRITE_5M_MULTIPLIER_FIELD_NUMBER: _ClassVar[int]
    CACHE_WRITE_1H_MULTIPLIER_FIELD_NUMBER: _ClassVar[int]
    CACHE_READ_MULTIPLIER_FIELD_NUMBER: _ClassVar[int]
    BATCH_DISCOUNT_FIELD_NUMBER: _ClassVar[int]
    LONG_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    MIN_CACHEABLE_TOKENS_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    DERIVATION_FIELD_NUMBER: _ClassVar[int]
    id: str
    model: str
    display_name: str
    kind: TierKind
    usd_per_mtok_input: float
    usd_per_mtok_output: float
    cache_write_5m_multiplier: float
    cache_write_1h_multiplier: float
    cache_read_multiplier: float
    batch_discount: float
    long_context: LongContextRule
    min_cacheable_tokens: int
    provenance: Provenance
    derivation: HardwareDerivation
    def __init__(self, id: _Optional[str] = ..., model: _Optional[str] = ..., display_name: _Optional[str] = ..., kind: _Optional[_Union[TierKind, str]] = ..., usd_per_mtok_input: _Optional[float] = ..., usd_per_mtok_output: _Optional[float] = ..., cache_write_5m_multiplier: _Optional[float] = ..., cache_write_1h_multiplier: _Optional[float] = ..., cache_read_multiplier: _Optional[float] = ..., batch_discount: _Optional[float] = ..., long_context: _Optional[_Union[LongContextRule, _Mapping]] = ..., min_cacheable_tokens: _Optional[int] = ..., provenance: _Optional[_Union[Provenance, _Mapping]] = ..., derivation: _Optional[_Union[HardwareDerivation, _Mapping]] = ...) -> None: ...

class ListTiersResponse(_message.Message):
    __slots__ = ("tiers", "table_version")
    TIERS_FIELD_NUMBER: _ClassVar[int]
    TABLE_VERSION_FIELD_NUMBER: _ClassVar[int]
    tiers: _containers.RepeatedCompositeFieldContainer[Tier]
    table_version: str
    def __init__(self, tiers: _Optional[_Iterable[_Union[Tier, _Mapping]]] = ..., table_version: _Optional[str] = ...) -> None: ...
