"""Benchmarks of incident-bot against a fake Slack, each figure beside a baseline measured in the same run.

Run `python -m bench --help`; bench/RESULTS.md has the numbers and how they were taken.
"""
