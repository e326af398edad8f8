"""ReportOutcomes over a running server: accepted, unknown ids, duplicates, invalid fields,
oversized batches; and a second replica sharing the store judging ids it did not issue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from cascade_fixtures import cascade_server  # noqa: F401  (fixture)
from tiny_router import TEST_POLICY

from tierwise.sdk import TierwiseClient
from tierwise.server.config import ServerSettings
from tierwise.server.rpc.app import TierwiseServer, load_components
from tierwise.v1 import outcomes_pb2, outcomes_pb2_grpc

R = outcomes_pb2


def _outcome(decision_id: str, *scores: float, tier: str = "haiku") -> outcomes_pb2.Outcome:
    message = R.Outcome(decision_id=decision_id, final_tier=tier)
    for index, score in enumerate(scores):
        message.attempts.add(
            tier=tier, score=score, accepted=index == len(scores) - 1, cost_usd=0.001
        )
    return message


@pytest.fixture
def stub(cascade_server: TierwiseServer) -> Iterator[outcomes_pb2_grpc.OutcomeServiceStub]:  # noqa: F811
    with grpc.insecure_channel(f"127.0.0.1:{cascade_server.port}") as channel:
        yield outcomes_pb2_grpc.OutcomeServiceStub(channel)


def test_report_outcomes_judges_each_outcome(
    stub: outcomes_pb2_grpc.OutcomeServiceStub,
    cascade_server: TierwiseServer,  # noqa: F811
) -> None:
    with TierwiseClient(f"127.0.0.1:{cascade_server.port}") as client:
        first, second = (client.route("what is 2 + 2").decision_id for _ in range(2))
    bad_score = _outcome(second, 1.5)
    response = stub.ReportOutcomes(
        R.ReportOutcomesRequest(
            outcomes=[
                _outcome(first, 0.9),
                _outcome(first, 0.9),  # twice in one batch
                _outcome("d-never-issued", 0.9),
                bad_score,
                R.Outcome(decision_id=second),  # no attempts
            ]
        )
    )
    assert response.accepted == 1
    reasons = {(r.index, r.reason) for r in response.rejected}
    assert reasons == {
        (1, R.REJECTION_REASON_DUPLICATE),
        (2, R.REJECTION_REASON_UNKNOWN_DECISION),
        (3, R.REJECTION_REASON_INVALID),
        (4, R.REJECTION_REASON_INVALID),
    }
    messages = {r.index: r.message for r in response.rejected}
    assert "outcomes[3].attempts[0].score: must be in [0, 1]" in messages[3]
    assert "outcomes[4].attempts" in messages[4]
    # Reported again later: still a duplicate (the registry remembers, the store too).
    again = stub.ReportOutcomes(R.ReportOutcomesRequest(outcomes=[_outcome(first, 0.5)]))
    assert [r.reason for r in again.rejected] == [R.REJECTION_REASON_DUPLICATE]
    unknown_tier = _outcome(second, 0.5, tier="gpt-9")
    reply = stub.ReportOutcomes(R.ReportOutcomesRequest(outcomes=[unknown_tier]))
    assert "unknown tier 'gpt-9'" in reply.rejected[0].message


def test_oversized_and_empty_batches_are_invalid_argument(
    stub: outcomes_pb2_grpc.OutcomeServiceStub,
) -> None:
    too_many = R.ReportOutcomesRequest(outcomes=[_outcome("x", 0.5)] * 21)
    with pytest.raises(grpc.RpcError) as error:
        stub.ReportOutcomes(too_many)
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "outcomes: at most 20 per call (got 21)" in str(error.value.details())
    with pytest.raises(grpc.RpcError) as empty:
        stub.ReportOutcomes(R.ReportOutcomesRequest())
    assert empty.value.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_a_replica_sharing_postgres_accepts_ids_issued_by_another(
    postgres_url: str, tiny_bundle: Path, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(TEST_POLICY)
    settings = ServerSettings(
        address="127.0.0.1:0", model_dir=tiny_bundle, policy_file=policy, outcome_store=postgres_url
    )
    components = load_components(settings)
    replicas = [TierwiseServer(settings, components) for _ in range(2)]
    for replica in replicas:
        replica.start()
    try:
        with TierwiseClient(f"127.0.0.1:{replicas[0].port}") as client:
            decision_id = client.route("hello").decision_id
        writer = replicas[0].recorder.writer
        assert writer is not None and writer.flush(5.0)
        with grpc.insecure_channel(f"127.0.0.1:{replicas[1].port}") as channel:
            other = outcomes_pb2_grpc.OutcomeServiceStub(channel)
            ok = other.ReportOutcomes(R.ReportOutcomesRequest(outcomes=[_outcome(decision_id, 1)]))
            assert ok.accepted == 1
            other_writer = replicas[1].recorder.writer
            assert other_writer is not None and other_writer.flush(5.0)
        with grpc.insecure_channel(f"127.0.0.1:{replicas[0].port}") as channel:
            first = outcomes_pb2_grpc.OutcomeServiceStub(channel)
            dup = first.ReportOutcomes(R.ReportOutcomesRequest(outcomes=[_outcome(decision_id, 1)]))
            assert [r.reason for r in dup.rejected] == [R.REJECTION_REASON_DUPLICATE]
    finally:
        for replica in replicas:
            replica.stop(0)
