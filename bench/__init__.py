"""Tierwise benchmark suite: `python -m bench.run` (what `make bench` calls)."""
