"""Outlier ejection bookkeeping and target parsing (no I/O: a fake clock)."""

from __future__ import annotations

import pytest

from tierwise.sdk import ClientSettings
from tierwise.sdk._replicas import EjectionPolicy, ReplicaSet
from tierwise.sdk._targets import DnsName, dns_name, listed_replicas, resolve


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _set(clock: Clock, *addresses: str) -> ReplicaSet[str]:
    return ReplicaSet(((a, f"endpoint-{a}") for a in addresses), EjectionPolicy(1.0, 4.0), clock)


def test_an_ejected_replica_is_skipped_until_a_probe_answers() -> None:
    clock = Clock()
    replicas = _set(clock, "a", "b")
    a = next(r for r in replicas.all() if r.address == "a")
    replicas.failed(a)
    assert {replicas.pick().address for _ in range(6)} == {"b"}
    assert replicas.due_for_probe() == []  # its period is not over
    clock.now += 1.0
    assert replicas.due_for_probe() == [a]
    assert replicas.due_for_probe() == []  # one probe at a time
    assert replicas.ejected == ("a",)  # still out while the probe runs
    replicas.probed(a, answered=True)
    assert replicas.ejected == ()
    assert {replicas.pick().address for _ in range(6)} == {"a", "b"}


def test_failed_probes_double_the_ejection_up_to_the_cap() -> None:
    clock = Clock()
    replicas = _set(clock, "a", "b")
    a = replicas.all()[0]
    replicas.failed(a)
    periods = []
    for _ in range(4):
        assert a.ejected_until is not None
        periods.append(a.ejected_until - clock.now)
        clock.now = a.ejected_until
        assert replicas.due_for_probe() == [a]
        replicas.probed(a, answered=False)
    assert periods == [1.0, 2.0, 4.0, 4.0]
    # A real success resets the backoff.
    replicas.succeeded(a)
    replicas.failed(a)
    assert a.ejected_until == clock.now + 1.0


def test_a_second_timeout_on_an_ejected_replica_does_not_extend_it() -> None:
    clock = Clock()
    replicas = _set(clock, "a", "b")
    a = replicas.all()[0]
    replicas.failed(a)
    replicas.failed(a)  # a concurrent call saw the same hang
    assert a.ejections == 1


def test_when_every_replica_is_ejected_they_are_still_tried() -> None:
    clock = Clock()
    replicas = _set(clock, "a", "b")
    a, b = replicas.all()
    replicas.failed(a)
    clock.now += 0.5
    replicas.failed(b)
    assert replicas.pick() is a  # its ejection ends first
    assert replicas.pick(avoid=[a]) is b  # the next attempt goes elsewhere
    assert replicas.pick(avoid=[a, b]) is a


def test_attempts_avoid_replicas_already_tried() -> None:
    replicas = _set(Clock(), "a", "b", "c")
    first = replicas.pick()
    second = replicas.pick(avoid=[first])
    third = replicas.pick(avoid=[first, second])
    assert len({first.address, second.address, third.address}) == 3


def test_replace_keeps_known_replicas_and_their_state() -> None:
    clock = Clock()
    replicas = _set(clock, "a", "b")
    a = replicas.all()[0]
    replicas.failed(a)
    removed = replicas.replace(["a", "c"], lambda address: f"new-{address}")
    assert removed == ["endpoint-b"]
    assert replicas.addresses == ("a", "c")
    assert replicas.all()[0] is a and a.ejected
    assert replicas.all()[1].endpoint == "new-c"
    assert replicas.replace([], lambda address: address) == []  # resolves to nothing: keep
    assert replicas.addresses == ("a", "c")


def test_targets_naming_several_replicas() -> None:
    assert listed_replicas("ipv4:10.0.0.1:50051, 10.0.0.2:50051") == (
        "ipv4:10.0.0.1:50051",
        "ipv4:10.0.0.2:50051",
    )
    assert listed_replicas("127.0.0.1:50051") is None
    assert dns_name("dns:///tierwise.ns.svc:50051") == DnsName("tierwise.ns.svc", 50051)
    assert dns_name("dns://8.8.8.8/tierwise:50051") == DnsName("tierwise", 50051)
    assert dns_name("dns:///no-port") is None
    assert "ipv4:127.0.0.1:50051" in resolve(DnsName("localhost", 50051))


def test_ejection_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="ejection_base_s"):
        ClientSettings(ejection_base_s=5.0, ejection_max_s=1.0)
    with pytest.raises(ValueError, match="probe_timeout_s"):
        ClientSettings(probe_timeout_s=0)
