"""Figures for docs/reliability.md, summed over every sequence this process runs."""

from __future__ import annotations

from collections import Counter

STATS: Counter[str] = Counter()
