package io.certfleet.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Every configuration key certfleet reads, in the order the example file lists them. */
final class Keys {
    private Keys() {
    }

    static final List<Key> ALL = List.of(
            k("data.dir", "./data", "where the embedded database, the generated secrets key and exports live"),

            k("db.url", "", "JDBC URL of an external PostgreSQL; empty starts the embedded one"),
            k("db.user", "postgres", "database user for db.url (the embedded server uses postgres)"),
            s("db.password", "", "database password for db.url"),
            k("db.pool-size", "10", "HikariCP maximum pool size; the pipeline, scheduler and responder share it"),
            k("db.connect-timeout", "PT10S", "how long to wait for a pooled connection before failing"),
            k("db.embedded.data-dir", "", "data directory of the embedded PostgreSQL; empty means ${data.dir}/postgres"),
            k("db.embedded.port", "54329", "fixed loopback port of the embedded PostgreSQL, so psql can reach it"),

            k("secrets.key-file", "", "file with the base64 AES-256 key encrypting private keys; empty means "
                    + "${data.dir}/secrets.key, generated on first run"),
            s("secrets.key", "", "the base64 AES-256 key itself (overrides secrets.key-file); prefer the env var"),

            k("acme.staging.directory", "https://acme-staging-v02.api.letsencrypt.org/directory",
                    "ACME directory of the rehearsal CA"),
            k("acme.production.directory", "https://acme-v02.api.letsencrypt.org/directory",
                    "ACME directory of the issuing CA"),
            k("acme.terms-agreed", "false", "set to true to agree to the CA's terms of service when creating accounts"),
            k("acme.contact", "", "mailto: contact for new accounts (optional)"),
            k("acme.trusted-ca-file", "", "extra PEM CA to trust for the ACME servers (private or test CAs)"),
            k("acme.profile", "", "certificate profile new orders ask for (Let's Encrypt: classic, tlsserver, shortlived); "
                    + "empty uses the CA's default; tlsserver and shortlived hold 25 names, and batches are packed to fit"),
            k("acme.key-type", "ec-p256", "certificate key type: ec-p256, rsa-2048 or rsa-3072"),
            k("acme.timeout", "PT30S", "HTTP timeout for one ACME request"),
            k("acme.sessions", "4", "parallel ACME connections per environment (one request at a time each)"),
            k("acme.staging.requests-per-second", "15", "request pace to staging (Let's Encrypt allows 20/s per IP)"),
            k("acme.production.requests-per-second", "100", "request pace to production (Let's Encrypt allows 250/s)"),

            k("batch.max-names", "100", "most names in one order (Let's Encrypt classic allows 100)"),
            k("batch.grouping", "customer", "customer: keep a customer's names together when they fit; "
                    + "per-customer: one certificate per customer"),

            k("pipeline.parallel-batches", "4", "batches stepped at once (bounded by the staging per-IP request limit)"),
            k("pipeline.fresh-for", "PT7H", "a production authorization validated less than this ago skips pre-check "
                    + "and rehearsal; older ones get a CAA recheck before production finalize; at most PT7H (Let's "
                    + "Encrypt rechecks CAA at finalize after 7 h)"),
            k("pipeline.authz-reuse-margin", "PT21H", "a fresh authorization must stay valid this long for the CA to "
                    + "reuse it (Let's Encrypt classic: 21 h)"),
            k("pipeline.poll-interval", "PT2S", "wait between polls when the CA sends no Retry-After"),
            k("pipeline.max-attempts", "8", "CA-side failures of one batch before its names go back to the queue"),
            k("pipeline.max-production-reorders", "3", "production re-orders of one promoted set after a failure "
                    + "(counted per promotion, across runs: each re-order inherits the count); beyond it the rest go "
                    + "back to the queue and are rehearsed again"),
            k("pipeline.quarantine-backoff", "PT1H", "first re-check of a quarantined name; doubles per failure, "
                    + "at most 7 days"),
            k("pipeline.run-timeout", "PT2H", "how long 'run --once' drives batches before leaving the rest for later"),

            k("budget.staging.new-orders-per-3h", "1500", "Let's Encrypt staging's new-orders-per-account limit"),
            k("budget.production.new-orders-per-3h", "300", "Let's Encrypt's new-orders-per-account limit"),
            k("budget.production.certificates-per-domain-per-7d", "50", "Let's Encrypt's certificates per registered "
                    + "domain limit"),
            k("budget.production.certificates-per-exact-set-per-7d", "5", "Let's Encrypt's certificates per exact set "
                    + "of names limit; a set at it waits as a whole (BUDGET_EXACT_SET)"),
            k("budget.staging.failed-authorizations-per-hour", "200", "Let's Encrypt staging's failed authorizations "
                    + "per name per account per hour"),
            k("budget.production.failed-authorizations-per-hour", "5", "Let's Encrypt's failed authorizations per name "
                    + "per account per hour (BUDGET_FAILED_AUTHORIZATIONS)"),
            k("budget.pause-guard-failures", "10", "consecutive failed authorizations of a name at which certfleet stops "
                    + "ordering it until an operator releases it (PAUSE_GUARD); Let's Encrypt pauses at 1,152"),

            k("precheck.resolvers", "", "comma-separated HOST[:PORT] resolvers for CAA; empty uses the system's"),
            k("precheck.timeout", "PT1S", "per-try DNS timeout (Let's Encrypt uses a short one)"),
            k("precheck.tries", "3", "DNS tries per query; only timeouts are retried, like Let's Encrypt"),
            k("precheck.concurrency", "256", "names pre-checked at once (each sends up to one query per label); "
                    + "queries in flight are capped at 256 per resolver whatever this says (docs/benchmarks.md)"),
            k("precheck.sweep", "true", "ask every nameserver of each zone directly and flag partial failures"),
            k("precheck.sweep-port", "53", "port the sweep asks authoritative nameservers on (53; tests use loopback "
                    + "servers on another port)"),
            k("precheck.hold-at-risk", "true", "hold back at-risk names (sweep findings) instead of ordering them"),
            k("precheck.canary", "com", "comma-separated names that must resolve, or the run is degraded"),
            k("precheck.degraded-share", "0.5", "a run is degraded (nothing blocked for it) when more than this share of "
                    + "its names fail alike (timeouts, SERVFAIL/REFUSED, or sweep failures) ..."),
            k("precheck.degraded-min-domains", "10", "... under at least this many registered domains; fewer is the "
                    + "customers' DNS, not ours"),
            k("precheck.dnssec-anchor", "", "trust-anchor file (e.g. config/root-anchors.txt) to validate DNSSEC "
                    + "ourselves when the resolver does not; empty trusts the resolver's validation"),
            k("precheck.ca-identity", "letsencrypt.org", "CAA issuer domain of the CA"),
            k("precheck.method", "http-01", "challenge type compared with CAA validationmethods"),

            k("http01.bind", "0.0.0.0", "address of the HTTP-01 responder"),
            k("http01.port", "8402", "port of the HTTP-01 responder (proxy /.well-known/acme-challenge/ to it)"),

            k("ops.bind", "127.0.0.1", "address of /healthz, /readyz and /metrics (keep it off the internet)"),
            k("ops.port", "9402", "port of /healthz, /readyz and /metrics"),

            k("schedule.cron", "0 0 2 * * ?", "Quartz cron expression of the nightly issuance run"),
            k("schedule.time-zone", "UTC", "time zone of schedule.cron"),
            k("schedule.window", "PT6H", "new orders start only this long after each nightly firing (batches "
                    + "already ordered finish); PT24H with a daily cron means no window; run --once ignores it"));

    static final Map<String, Key> BY_NAME;

    static {
        var m = new LinkedHashMap<String, Key>();
        for (Key k : ALL) {
            m.put(k.name(), k);
        }
        BY_NAME = Map.copyOf(m);
    }

    private static Key k(String name, String def, String doc) {
        return new Key(name, def, false, doc);
    }

    private static Key s(String name, String def, String doc) {
        return new Key(name, def, true, doc);
    }
}
