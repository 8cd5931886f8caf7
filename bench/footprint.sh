# Daemon footprint (sourced by bench/run): filled in below.
bench_daemon() { :; }
