"""Benchmarks: a deterministic data generator and a harness that times API calls against the
raw-SQL floor on the same data in the same run. See bench/README.md."""
