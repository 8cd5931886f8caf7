# Daemon footprint (sourced by bench/run): start-up to ready with the embedded PostgreSQL, idle RSS of the java
# process with 100,000 domains in the table, and one pass over them (`plan`, `status`, the admission's own
# due-domains query).

daemon_start() { # daemon_start LOGFILE: starts the daemon, waits for "daemon: ready"; sets daemon_result="ready_ms wall_ms"
  local t0 t1 i
  t0=$(date +%s%N)
  bin/certfleet "${dset[@]}" daemon >"$1" 2>&1 &
  daemon_pid=$!
  pids+=("$daemon_pid")
  for ((i = 0; i < 600; i++)); do
    if grep -q 'daemon: ready in' "$1"; then
      t1=$(date +%s%N)
      daemon_result="$(grep -o 'daemon: ready in [0-9]*' "$1" | awk '{print $4}') $(( (t1 - t0) / 1000000 ))"
      return 0
    fi
    kill -0 "$daemon_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "bench: the daemon did not become ready; see $1" >&2; tail -20 "$1" >&2; exit 1
}
daemon_stop() { kill "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true; }

bench_daemon() {
  local d="$work/daemon" n=100000 port http r ready=() walls=() i
  [ "$quick" = 1 ] && n=20000
  mkdir -p "$d"
  port=$(free_port); http=$(free_port)
  dset=(--set "data.dir=$d/data" --set "db.embedded.port=$port" --set "http01.bind=127.0.0.1" --set "http01.port=$http"
        --set "acme.staging.directory=https://127.0.0.1:9/dir" --set "acme.production.directory=https://127.0.0.1:9/dir")
  log "daemon: cold start (initdb + migrations), then warm starts"
  daemon_start "$d/daemon-cold.log"; r=$daemon_result; daemon_stop
  local cold_ready=${r% *} cold_wall=${r#* }
  for i in 1 2 3; do
    daemon_start "$d/daemon-warm-$i.log"; r=$daemon_result; daemon_stop
    ready+=("${r% *}"); walls+=("${r#* }")
  done
  local warm; warm=$(printf '%s\n' "${ready[@]}" | median)
  local warm_wall; warm_wall=$(printf '%s\n' "${walls[@]}" | median)
  log "  cold: ready in $cold_ready ms ($cold_wall ms from launch); warm: median $warm ms ($warm_wall ms from launch)"
  row "daemon start-up to ready (warm, embedded PG)" "$warm ms" "" "" "<= 5000 ms" \
    "$([ "${warm%.*}" -le 5000 ] && echo pass || echo FAIL)" \
    "median of 3 'daemon: ready in N ms' (from main); from launch incl. JVM: $warm_wall ms; cold first start (initdb): $cold_ready ms"

  log "daemon: importing $n domains, then idle RSS and one pass"
  daemon_start "$d/daemon-idle.log"
  awk -v n="$n" 'BEGIN {for (i = 0; i < n; i++) printf "d%06d.c%04d.fleet.example,c%04d\n", i, i / 100, i / 100}' >"$d/domains.txt"
  local t0 t1
  t0=$(date +%s%N)
  bin/certfleet "${dset[@]}" import "$d/domains.txt" >"$d/import.out" 2>&1 || { tail "$d/import.out" >&2; exit 1; }
  t1=$(date +%s%N)
  local import_ms=$(( (t1 - t0) / 1000000 ))
  # idle: sample VmRSS every 10 s for a minute after the import (the scheduler fires pipeline steps meanwhile);
  # the median is the idle figure, the first sample and the peak go into the note
  local java_pid; java_pid=$daemon_pid
  local rss=() kb
  for i in 1 2 3 4 5 6; do
    sleep 10
    kb=$(awk '/VmRSS/ {print $2}' "/proc/$java_pid/status")
    rss+=($((kb / 1024)))
  done
  local rss_med; rss_med=$(printf '%s\n' "${rss[@]}" | median)
  local rss_max; rss_max=$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)
  log "  idle RSS samples (MiB, every 10 s after the import): ${rss[*]}"
  row "daemon idle RSS, $n domains (java process)" "${rss_med%.*} MiB" "" "" "<= 256 MiB" \
    "$([ "${rss_med%.*}" -le 256 ] && echo pass || echo FAIL)" \
    "median VmRSS of 6 samples 10-60 s after the import (${rss[*]} MiB; peak $rss_max), the launcher's JVM options (no -Xmx; G1 periodic GC every 10 s for daemon), embedded PostgreSQL is a separate process; import of $n took $import_ms ms"
  local sts=() q=() sql
  for i in 1 2 3; do
    t0=$(date +%s%N); bin/certfleet "${dset[@]}" status >"$d/status.out" 2>&1; t1=$(date +%s%N)
    sts+=($(( (t1 - t0) / 1000000 )))
  done
  local plans=()
  for i in 1 2 3; do
    t0=$(date +%s%N); bin/certfleet "${dset[@]}" plan --format json >"$d/plan.json" 2>"$d/plan.err" \
      || { tail "$d/plan.err" >&2; exit 1; }
    t1=$(date +%s%N)
    plans+=($(( (t1 - t0) / 1000000 )))
  done
  sql="SELECT d.id, d.name, d.wildcard, d.customer, d.state, d.attempts FROM domain d
       WHERE (d.state = 'pending' AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= now())
              OR d.state IN ('quarantined', 'held') AND d.next_attempt_at <= now())
         AND NOT EXISTS (SELECT 1 FROM batch_member m WHERE m.domain_id = d.id AND m.active)
       ORDER BY d.id LIMIT $n"
  for i in 1 2 3; do
    t0=$(date +%s%N)
    PGPASSFILE="$d/data/postgres.pass" psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAt -c "COPY ($sql) TO STDOUT" >"$d/due.out"
    t1=$(date +%s%N)
    q+=($(( (t1 - t0) / 1000000 )))
  done
  row "one pass over $n domains: status (CLI)" "$(printf '%s\n' "${sts[@]}" | median) ms" "" "" "(report)" info \
    "bin/certfleet status against the running daemon's database, JVM start included; median of 3"
  row "plan over $n domains (CLI)" "$(printf '%s\n' "${plans[@]}" | median) ms" "" "" "(report)" info \
    "bin/certfleet plan --format json against the running daemon's database (no CA, no DNS), JVM start included; median of 3; $(jq '.orders | length' "$d/plan.json" 2>/dev/null || echo '?') orders planned"
  row "one pass over $n domains: admission query" "$(printf '%s\n' "${q[@]}" | median) ms" "" "" "(report)" info \
    "PrecheckStore.dueDomains' SQL for all $n ($(wc -l <"$d/due.out") rows) via psql COPY; median of 3"
  daemon_stop
}
