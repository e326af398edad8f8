"""Domain errors of the cost tables. Every message names the field, id, file or key at fault."""

from __future__ import annotations

from collections.abc import Sequence


class CostTableError(Exception):
    """Base class: the CLI prints ``error: <message>`` and exits 2; the server maps it."""


class InvalidInputError(CostTableError):
    """A caller-supplied value is out of range or of the wrong type."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class UnknownIdError(CostTableError):
    """An id (tier, model, gpu, precision, ...) is not in the catalog."""

    def __init__(self, kind: str, value: str, known: Sequence[str]) -> None:
        self.kind = kind
        self.value = value
        self.known = tuple(known)
        super().__init__(f"unknown {kind} {value!r}; known: {', '.join(self.known)}")


class DeploymentDoesNotFitError(CostTableError):
    """Weights plus the KV cache of the batch exceed the usable GPU memory of the instance."""

    def __init__(
        self,
        deployment: str,
        weights_gb: float,
        kv_gb: float,
        memory_gb: float,
        suggestion: str,
    ) -> None:
        self.deployment = deployment
        self.weights_gb = weights_gb
        self.kv_gb = kv_gb
        self.memory_gb = memory_gb
        super().__init__(
            f"{deployment} does not fit: weights {weights_gb:.1f} GB + KV cache {kv_gb:.1f} GB"
            f" > {memory_gb:.1f} GB usable memory; {suggestion}"
        )


class TableFileError(CostTableError):
    """A data file is malformed: missing key, wrong type, out-of-range or unknown key."""

    def __init__(self, path: str, key: str, problem: str) -> None:
        self.path = path
        self.key = key
        self.problem = problem
        super().__init__(f"cost table {path}: {key}: {problem}")
