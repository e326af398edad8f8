from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class ReloadPolicyRequest(_message.Message):
    __slots__ = ("policy_toml",)
    POLICY_TOML_FIELD_NUMBER: _ClassVar[int]
    policy_toml: str
    def __init__(self, policy_toml: _Optional[str] = ...) -> None: ...

class ReloadPolicyResponse(_message.Message):
    __slots__ = ("policy_version", "previous_policy_version")
    POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    policy_version: str
    previous_policy_version: str
    def __init__(self, policy_version: _Optional[str] = ..., previous_policy_version: _Optional[str] = ...) -> None: ...

class GetPolicyRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetPolicyResponse(_message.Message):
    __slots__ = ("policy_version", "policy_toml")
    POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    POLICY_TOML_FIELD_NUMBER: _ClassVar[int]
    policy_version: str
    policy_toml: str
    def __init__(self, policy_version: _Optional[str] = ..., policy_toml: _Optional[str] = ...) -> None: ...

class ReloadLatencyRequest(_message.Message):
    __slots__ = ("latency_toml",)
    LATENCY_TOML_FIELD_NUMBER: _ClassVar[int]
    latency_toml: str
    def __init__(self, latency_toml: _Optional[str] = ...) -> None: ...

class ReloadLatencyResponse(_message.Message):
    __slots__ = ("latency_version", "previous_latency_version")
    LATENCY_VERSION_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_LATENCY_VERSION_FIELD_NUMBER: _ClassVar[int]
    latency_version: str
    previous_latency_version: str
    def __init__(self, latency_version: _Optional[str] = ..., previous_latency_version: _Optional[str] = ...) -> None: ...
