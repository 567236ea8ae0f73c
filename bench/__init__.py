"""Benchmarks: speed, scale and quality, side by side with peers (python -m bench)."""
