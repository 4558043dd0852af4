"""Benchmarks: `tearline bench visibility` and the ingest comparison (see docs/benchmarks.md)."""
