"""`tierwise policy check|apply|show` and `tierwise route`."""

from __future__ import annotations

import argparse
import json
from typing import Any

from tierwise.server.cli.common import (
    add_client_arguments,
    add_latency_arguments,
    client_from_args,
    existing_file,
)


def register(subparsers: Any) -> None:
    policy: argparse.ArgumentParser = subparsers.add_parser("policy", help="routing policies")
    actions = policy.add_subparsers(dest="policy_command", metavar="ACTION", required=True)

    check = actions.add_parser("check", help="validate a policy file against the cost table")
    check.add_argument("file", type=existing_file)
    check.add_argument("--tiers-file", type=existing_file, help="cost table TOML")
    check.set_defaults(handler=_run_check)

    apply = actions.add_parser("apply", help="validate and activate a policy on a running server")
    apply.add_argument("file", type=existing_file)
    add_client_arguments(apply)
    apply.set_defaults(handler=_run_apply)

    show = actions.add_parser("show", help="print the active policy of a running server")
    add_client_arguments(show)
    show.set_defaults(handler=_run_show)

    route: argparse.ArgumentParser = subparsers.add_parser(
        "route", help="ask a running server for a decision"
    )
    route.add_argument("query")
    route.add_argument("--allowed-tier", action="append", default=[], dest="allowed_tiers")
    route.add_argument("--quality-target", type=float)
    route.add_argument("--max-cost-usd", type=float)
    add_latency_arguments(route)
    route.add_argument("--caller", default="", help="RouteRequest.caller (policy SLO rules)")
    route.add_argument("--feature", default="", help="RouteRequest.feature (policy SLO rules)")
    add_client_arguments(route)
    route.set_defaults(handler=_run_route)


def _run_check(args: argparse.Namespace) -> int:
    from tierwise.cost_tables.tables import load_tier_table
    from tierwise.server.routing.policy import load_policy

    policy = load_policy(args.file)
    policy.check_tiers(load_tier_table(args.tiers_file).ids())
    print(f"ok: policy {policy.version} is valid")
    return 0


def _run_apply(args: argparse.Namespace) -> int:
    from tierwise.server.routing.policy import load_policy

    load_policy(args.file)  # fail fast, locally, with the file's name in the message
    with client_from_args(args) as client:
        info = client.reload_policy(args.file.read_text(encoding="utf-8"))
    print(f"applied policy {info.policy_version} (was {info.previous_policy_version})")
    return 0


def _run_show(args: argparse.Namespace) -> int:
    with client_from_args(args) as client:
        info = client.get_policy()
    print(info.policy_toml, end="" if info.policy_toml.endswith("\n") else "\n")
    return 0


def _run_route(args: argparse.Namespace) -> int:
    import dataclasses

    with client_from_args(args) as client:
        decision = client.route(
            args.query,
            allowed_tiers=args.allowed_tiers,
            quality_target=args.quality_target,
            max_cost_usd=args.max_cost_usd,
            max_ttft_ms=args.max_ttft_ms,
            max_latency_ms=args.max_latency_ms,
            min_output_tokens_per_s=args.min_output_tokens_per_s,
            caller=args.caller,
            feature=args.feature,
        )
    print(json.dumps(dataclasses.asdict(decision), indent=2))
    return 0
