# Pre-check throughput (sourced by bench/run): nsd serving generated zones behind Debian's unbound, both
# unprivileged on loopback; certfleet vs dnsperf (the same CAA queries) vs a sequential dig loop.

# gen_names N ZONES: h{i}.z{i % ZONES}.bench, one per line
gen_names() { awk -v n="$1" -v z="$2" 'BEGIN {for (i = 0; i < n; i++) printf "h%d.z%d.bench\n", i, i % z}'; }

# dns_start ZONES: writes the zones, starts nsd and unbound; sets dns_port (unbound) and auth_port (nsd)
dns_start() {
  local zones=$1 d="$work/dns" k
  mkdir -p "$d/zones"
  auth_port=$(free_port); dns_port=$(free_port)
  # every 50th zone forbids Let's Encrypt; a wildcard A makes the host names exist (NODATA for CAA, like real hosts)
  awk -v z="$zones" -v dir="$d/zones" 'BEGIN {
      f = dir "/bench.zone"
      print "$TTL 300\n@ SOA ns.bench. h.bench. 1 3600 600 86400 300\n@ NS ns.bench.\nns A 127.0.0.1" > f
      for (k = 0; k < z; k++) {
        f = dir "/z" k ".zone"
        print "$TTL 300\n@ SOA ns.bench. h.bench. 1 3600 600 86400 300\n@ NS ns.bench.\n* A 127.0.0.1" > f
        printf "@ CAA 0 issue \"%s\"\n", (k % 50 == 0 ? "ca.example" : "letsencrypt.org") > f
        close(f)
      }
    }'
  {
    printf 'server:\n  ip-address: 127.0.0.1\n  port: %s\n  username: ""\n  chroot: ""\n' "$auth_port"
    printf '  zonesdir: "%s/zones"\n  database: ""\n  pidfile: ""\n  zonelistfile: "%s/zone.list"\n' "$d" "$d"
    printf '  xfrdfile: "%s/xfrd.state"\n  logfile: "%s/nsd.log"\n  server-count: 1\n  verbosity: 0\n' "$d" "$d"
    printf 'remote-control:\n  control-enable: no\n'
    printf 'zone:\n  name: "bench"\n  zonefile: "bench.zone"\n'
    for ((k = 0; k < zones; k++)); do printf 'zone:\n  name: "z%d.bench"\n  zonefile: "z%d.zone"\n' "$k" "$k"; done
  } >"$d/nsd.conf"
  nsd -d -c "$d/nsd.conf" >"$d/nsd.out" 2>&1 &
  pids+=($!)
  # unbound: the repository's LE-like config, on our port, stubbing "bench" to nsd, without per-query logging
  sed -e "s/^\( *port:\).*/\1 $dns_port/" -e 's/^\( *log-queries:\).*/\1 no/' -e 's/^\( *log-replies:\).*/\1 no/' \
      -e 's/^\( *do-ip6:\).*/\1 no/' config/unbound/unbound.conf >"$d/unbound.conf"
  printf '    domain-insecure: "bench"\nstub-zone:\n    name: "bench"\n    stub-addr: 127.0.0.1@%s\n' "$auth_port" >>"$d/unbound.conf"
  unbound -d -c "$d/unbound.conf" >"$d/unbound.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    if dig +time=1 +tries=1 -p "$dns_port" @127.0.0.1 z1.bench CAA 2>/dev/null | grep -q 'letsencrypt.org'; then
      return 0
    fi
    sleep 0.2
  done
  echo "bench: unbound/nsd did not answer; see $d" >&2; tail "$d"/*.out >&2; exit 1
}

# queries NAMESFILE: every suffix of every name (never the root), type CAA, once each: what certfleet sends
queries() {
  awk -F. '{s = $0; for (i = 1; i < NF; i++) {print s; sub(/^[^.]*\./, "", s)} print s}' "$1" | awk '!seen[$0]++ {print $0 " CAA"}'
}

bench_precheck() {
  local zones=2000 sizes runs sample n f q i t
  if [ "$quick" = 1 ]; then sizes="1000 5000"; runs=3; sample=100; else sizes="1000 5000 20000"; runs=5; sample=300; fi
  log "precheck: generating $zones zones, starting nsd and unbound"
  dns_start "$zones"
  local base="$work/precheck-baselines.jsonl"
  : >"$base"
  for n in $sizes; do
    f="$work/names-$n.txt"; q="$work/queries-$n.txt"
    gen_names "$n" "$zones" >"$f"
    queries "$f" >"$q"
    # dnsperf: the resolver's capacity on exactly these queries (one pass through the file per run)
    local times=()
    for ((i = 0; i < runs; i++)); do
      dnsperf -s 127.0.0.1 -p "$dns_port" -d "$q" -n 1 -q 256 -t 5 >"$work/dnsperf-$n-$i.out" 2>&1
      t=$(awk '/Run time \(s\):/ {print $4}' "$work/dnsperf-$n-$i.out")
      times+=("$t")
      log "  dnsperf $n names ($(wc -l <"$q") queries): $t s, $(awk '/Queries lost:/ {print $3}' "$work/dnsperf-$n-$i.out") lost"
    done
    jq -nc --argjson n "$n" --argjson q "$(wc -l <"$q")" --argjson s "$(printf '%s\n' "${times[@]}" | median)" \
      '{names:$n, queries:$q, dnsperf_s:$s}' >>"$base"
  done
  # the dig loop an operator would write: one dig per name asking CAA at every level (sequential), on a sample
  head -n "$sample" "$work/names-1000.txt" >"$work/dig-sample.txt"
  local t0 t1 digs=()
  for ((i = 0; i < 3; i++)); do
    t0=$(date +%s%N)
    while read -r name; do
      args=(); s="$name"
      while :; do args+=("$s" CAA); [[ "$s" == *.* ]] || break; s="${s#*.}"; done
      dig -p "$dns_port" @127.0.0.1 +tries=3 +time=1 +noall +answer "${args[@]}" >/dev/null
    done <"$work/dig-sample.txt"
    t1=$(date +%s%N)
    digs+=("$(awk -v a="$t0" -v b="$t1" -v s="$sample" 'BEGIN {print (b - a) / 1e6 / s}')")
  done
  local dig_ms; dig_ms=$(printf '%s\n' "${digs[@]}" | median)
  log "  dig loop: $dig_ms ms per name (median of 3 passes over $sample names)"
  jq -nc --argjson ms "$dig_ms" --argjson s "$sample" '{dig_ms_per_name:$ms, dig_sample:$s}' >>"$base"

  log "precheck: certfleet in one JVM (median of $runs runs per size)"
  bench_java io.certfleet.bench.ResolverPrecheckBench "127.0.0.1:$dns_port" "$base" "$runs" "$work" \
    2>"$work/precheck-bench.err" | collect || { tail -30 "$work/precheck-bench.err" >&2; exit 1; }

  # the command as operators run it: a fresh JVM, peak RSS of the whole process
  n=${sizes##* }
  local rss_kb wall
  /usr/bin/time -f '%e %M' -o "$work/precheck-cli.time" bin/certfleet precheck --file "$work/names-$n.txt" \
    --resolver "127.0.0.1:$dns_port" --canary bench --format csv >"$work/precheck-cli.csv" 2>"$work/precheck-cli.err" || true
  read -r wall rss_kb < <(tail -n 1 "$work/precheck-cli.time")
  local blocked; blocked=$(grep -c ',blocked,' "$work/precheck-cli.csv" || true)
  log "  CLI: $n names in $wall s, peak RSS $((rss_kb / 1024)) MiB, $blocked blocked"
  row "precheck peak RSS, $n names (CLI process)" "$((rss_kb / 1024)) MiB" "" "" "<= 512 MiB" \
    "$([ $((rss_kb / 1024)) -le 512 ] && echo pass || echo FAIL)" \
    "bin/certfleet precheck --file names-$n.txt, default JVM options; /usr/bin/time max RSS"
  row "precheck CLI wall, $n names (JVM start included)" "${wall} s = $(awk -v n="$n" -v w="$wall" 'BEGIN {printf "%.0f", n / w}') names/s" \
    "" "" "" info "one cold run: JVM start, class loading and JIT count here; $blocked blocked (expected $((n / 50)))"
}
