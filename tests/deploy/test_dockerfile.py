"""The Dockerfile: hadolint-clean, multi-stage, non-root, exec-form CMD, gRPC HEALTHCHECK.

The real build-and-run check is `make image-check` (scripts/image-check.sh, root + podman);
these tests are the fast, unprivileged part of it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from repo_paths import REPO as ROOT

from tierwise.server.rpc.app import TierwiseServer

DOCKERFILE = ROOT / "Dockerfile"
# The venv's console scripts sit next to its interpreter (no resolve(): that would follow
# the python symlink out of the venv).
HADOLINT = Path(sys.executable).parent / "hadolint"


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, ...
    args: str  # the rest of the (continuation-joined) line
    stage: int  # 0-based build stage; -1 before the first FROM


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with continuation lines joined and comments dropped (enough for checks)."""
    instructions: list[Instruction] = []
    stage = -1
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):  # comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        if not full:
            continue
        keyword, _, args = full.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append(Instruction(keyword, args.strip(), stage))
    assert not pending, "Dockerfile ends inside a continued line"
    return instructions


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    last = max(i.stage for i in instructions)
    return [i for i in instructions if i.stage == last]


def _only(final_stage: list[Instruction], keyword: str) -> Instruction:
    found = [i for i in final_stage if i.keyword == keyword]
    assert found, f"no {keyword} in the final stage"
    return found[-1]  # the last one is the one that takes effect


def _healthcheck_argv(final_stage: list[Instruction]) -> list[str]:
    args = _only(final_stage, "HEALTHCHECK").args
    # Options (--interval=30s ...) come before CMD.
    match = re.fullmatch(r"((?:--[a-z-]+=\S+\s+)*)CMD\s+(.*)", args, flags=re.DOTALL)
    assert match, f"HEALTHCHECK must be `[--opts] CMD [...]`, got: {args[:80]}"
    argv = json.loads(match.group(2))
    assert isinstance(argv, list) and all(isinstance(a, str) for a in argv), argv
    return argv


def test_hadolint_clean() -> None:
    assert HADOLINT.is_file(), f"hadolint not found at {HADOLINT} (requirements/dev.txt)"
    result = subprocess.run(
        [str(HADOLINT), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"hadolint:\n{result.stdout}{result.stderr}"


def test_parser_joins_continuations() -> None:
    parsed = parse_dockerfile("# c\nFROM a AS b\nRUN x \\\n  # note\n  && y\nFROM c\nUSER 1\n")
    assert [(i.keyword, i.args, i.stage) for i in parsed] == [
        ("FROM", "a AS b", 0),
        ("RUN", "x  && y", 0),
        ("FROM", "c", 1),
        ("USER", "1", 1),
    ]


def test_multi_stage_and_final_stage_copies_only_the_venv(
    instructions: list[Instruction], final_stage: list[Instruction]
) -> None:
    froms = [i for i in instructions if i.keyword == "FROM"]
    assert len(froms) >= 2, "expected a builder stage and a runtime stage"
    builder = froms[0].args.split()
    assert len(builder) == 3 and builder[1].upper() == "AS", "name the builder stage"
    for image in (f.args.split()[0] for f in froms):
        name, _, tag = image.rpartition(":")
        assert name and tag and tag != "latest", f"pin base images by tag: {image}"
    copies = [i.args for i in final_stage if i.keyword in {"COPY", "ADD"}]
    assert copies, "the final stage should copy the venv from the builder"
    for args in copies:
        assert args.startswith(f"--from={builder[2]} "), f"final stage copies from context: {args}"
    assert all("/opt/venv" in args for args in copies)


def test_wheels_built_without_deps_and_never_the_train_extra(
    instructions: list[Instruction],
) -> None:
    runs = " ".join(i.args for i in instructions if i.keyword == "RUN")
    assert "pip wheel --no-deps" in runs
    assert "constraints.txt" in runs
    assert "[train]" not in runs
    assert "torch" not in runs


def test_final_user_is_non_root_numeric(final_stage: list[Instruction]) -> None:
    user = _only(final_stage, "USER").args
    assert re.fullmatch(r"\d+(:\d+)?", user), f"USER must be numeric UID[:GID], got {user!r}"
    assert all(int(part) != 0 for part in user.split(":")), "USER must not be root"


def test_cmd_is_exec_form_and_serves_on_50051(final_stage: list[Instruction]) -> None:
    cmd = _only(final_stage, "CMD").args
    argv = json.loads(cmd)  # shell form would not parse as JSON
    assert isinstance(argv, list) and all(isinstance(a, str) for a in argv), cmd
    assert argv[:2] == ["tierwise", "serve"]
    assert argv[argv.index("--address") + 1] == "0.0.0.0:50051"
    assert "50051" in _only(final_stage, "EXPOSE").args.split()
    assert not [i for i in final_stage if i.keyword == "ENTRYPOINT"]


def test_healthcheck_uses_grpc_health(final_stage: list[Instruction]) -> None:
    argv = _healthcheck_argv(final_stage)
    assert argv[:2] == ["python", "-c"], argv
    code = argv[2]
    compile(code, "<HEALTHCHECK>", "exec")
    for needle in ("grpc_health.v1", "HealthStub", "Check(", "SERVING", "timeout="):
        assert needle in code, f"HEALTHCHECK code lacks {needle!r}"


def test_environment(final_stage: list[Instruction], instructions: list[Instruction]) -> None:
    env = " ".join(i.args for i in instructions if i.keyword == "ENV")
    assert "PIP_NO_CACHE_DIR=1" in env
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    final_env = " ".join(i.args for i in final_stage if i.keyword == "ENV")
    assert "PATH=/opt/venv/bin:" in final_env


def test_dockerignore_keeps_the_context_small() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    allow_list = lines[0] == "*"
    for unwanted in (".venv", ".git", "tests", "bench"):
        assert allow_list or unwanted in lines, f".dockerignore should exclude {unwanted}"
        assert f"!{unwanted}" not in lines
    assert "**/__pycache__" in lines


def test_healthcheck_command_against_a_real_server(
    final_stage: list[Instruction], tiny_server: TierwiseServer
) -> None:
    """The HEALTHCHECK's Python, run as-is: exit 0 against a serving server, else non-zero."""
    code = _healthcheck_argv(final_stage)[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIERWISE_")}

    def run(address: str) -> int:
        result = subprocess.run(
            [sys.executable, "-c", code],
            env={**env, "TIERWISE_ADDRESS": address},
            capture_output=True,
            timeout=30,
            check=False,
        )
        return result.returncode

    assert run(f"0.0.0.0:{tiny_server.port}") == 0
    tiny_server.stop(0.5)
    assert run(f"0.0.0.0:{tiny_server.port}") != 0
