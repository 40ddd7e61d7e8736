"""Benchmark harness: the same workloads through MLflow and trackline, side by side."""
