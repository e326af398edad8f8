"""Price one request on one tier: base input, cache writes/reads, output, batch discount."""

from __future__ import annotations

from dataclasses import dataclass

from tierwise.cost_tables.errors import InvalidInputError
from tierwise.cost_tables.tables import TierPricing

# Larger than any context window sold today (Claude: 1M) by 10x: beyond it a value is a bug.
MAX_TOKENS_PER_REQUEST = 10_000_000
USD_PER_MTOK = 1e6  # tokens per "M" in $/M tokens


def check_tokens(field: str, value: object) -> int:
    """A token count: an int (not bool) in [0, MAX_TOKENS_PER_REQUEST]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(field, f"must be an integer (got {value!r})")
    if value < 0:
        raise InvalidInputError(field, f"must be >= 0 (got {value})")
    if value > MAX_TOKENS_PER_REQUEST:
        raise InvalidInputError(
            field, f"must be <= {MAX_TOKENS_PER_REQUEST:,} tokens (got {value:,})"
        )
    return value


@dataclass(frozen=True)
class RequestUsage:
    """Token usage of one request.

    ``input_tokens`` is the TOTAL prompt; the cache read/write tokens are parts of it, the
    rest is billed at the base input price.
    """

    input_tokens: int
    output_tokens: int
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    batch: bool = False

    def __post_init__(self) -> None:
        for name in (
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_write_5m_tokens",
            "cache_write_1h_tokens",
        ):
            check_tokens(name, getattr(self, name))
        if not isinstance(self.batch, bool):
            raise InvalidInputError("batch", f"must be true or false (got {self.batch!r})")
        if self.cached_tokens > self.input_tokens:
            raise InvalidInputError(
                "cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens",
                f"cache read + write tokens ({self.cached_tokens:,}) must be <= input_tokens"
                f" ({self.input_tokens:,}): input_tokens is the whole prompt",
            )

    @property
    def cached_tokens(self) -> int:
        """The prompt prefix that takes part in caching (read + written)."""
        return self.cache_read_tokens + self.cache_write_5m_tokens + self.cache_write_1h_tokens


@dataclass(frozen=True)
class RequestQuote:
    tier_id: str
    model: str
    input_usd: float
    cache_write_usd: float
    cache_read_usd: float
    output_usd: float
    subtotal_usd: float
    batch_discount_usd: float  # >= 0, the amount subtracted
    total_usd: float
    energy_wh: float | None  # self-hosted only
    long_context_pricing: bool
    notes: tuple[str, ...]


def quote_request(tier: TierPricing, usage: RequestUsage) -> RequestQuote:
    """Price ``usage`` on ``tier`` exactly as the provider bills it."""
    notes: list[str] = []
    usd_in = tier.usd_per_mtok_input
    usd_out = tier.usd_per_mtok_output
    long_context = (
        tier.long_context is not None
        and usage.input_tokens > tier.long_context.threshold_input_tokens
    )
    if long_context and tier.long_context is not None:
        usd_in = tier.long_context.usd_per_mtok_input
        usd_out = tier.long_context.usd_per_mtok_output
        notes.append(
            f"long-context pricing: input > {tier.long_context.threshold_input_tokens} tokens"
            f" (whole request at ${usd_in:g} / ${usd_out:g} per M)"
        )

    read, write_5m, write_1h = (
        usage.cache_read_tokens,
        usage.cache_write_5m_tokens,
        usage.cache_write_1h_tokens,
    )
    if 0 < usage.cached_tokens < tier.min_cacheable_tokens:
        # Providers do not reject a too-short cache prefix; they silently do not cache it.
        notes.append(
            f"prompt below the {tier.min_cacheable_tokens}-token cache minimum: cache tokens"
            " billed as uncached input"
        )
        read = write_5m = write_1h = 0
    uncached = usage.input_tokens - read - write_5m - write_1h

    input_usd = uncached * usd_in / USD_PER_MTOK
    cache_write_usd = (
        (write_5m * tier.cache_write_5m_multiplier + write_1h * tier.cache_write_1h_multiplier)
        * usd_in
        / USD_PER_MTOK
    )
    cache_read_usd = read * tier.cache_read_multiplier * usd_in / USD_PER_MTOK
    output_usd = usage.output_tokens * usd_out / USD_PER_MTOK
    subtotal = input_usd + cache_write_usd + cache_read_usd + output_usd
    discount = subtotal * tier.batch_discount if usage.batch else 0.0
    if usage.batch:
        if tier.batch_discount > 0:
            notes.append(f"batch: -{tier.batch_discount:.0%} on the whole request")
        else:
            notes.append("batch: no discount on this tier")

    energy: float | None = None
    if tier.derivation is not None:
        est = tier.derivation
        # On our own GPUs the cache multipliers are GPU-time fractions of prefill (a prefix
        # hit skips its prefill), so they scale energy the same way they scale price.
        prefill_tokens = (
            uncached
            + write_5m * tier.cache_write_5m_multiplier
            + write_1h * tier.cache_write_1h_multiplier
            + read * tier.cache_read_multiplier
        )
        energy = (
            prefill_tokens * est.wh_per_input_token + usage.output_tokens * est.wh_per_output_token
        )
    return RequestQuote(
        tier_id=tier.tier_id,
        model=tier.model,
        input_usd=input_usd,
        cache_write_usd=cache_write_usd,
        cache_read_usd=cache_read_usd,
        output_usd=output_usd,
        subtotal_usd=subtotal,
        batch_discount_usd=discount,
        total_usd=subtotal - discount,
        energy_wh=energy,
        long_context_pricing=long_context,
        notes=tuple(notes),
    )
