"""The benchmark (bench/README.md): bench/run.py and, as a Django app installed only when
benchmarking (HEADWAY_BENCH=1, see config/settings.py), the floor page and ``seed_bench``."""
