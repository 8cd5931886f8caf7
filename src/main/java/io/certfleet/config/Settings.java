package io.certfleet.config;

import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Optional;

/**
 * certfleet's whole configuration: one validated, immutable tree built by {@link SettingsLoader} from the
 * built-in defaults, then the file, then {@code CERTFLEET_*} environment variables, then command-line overrides.
 */
public record Settings(
        Path dataDir,
        Database database,
        Secrets secrets,
        Acme acme,
        Batch batch,
        Precheck precheck,
        Pipeline pipeline,
        Http01 http01,
        Ops ops,
        Schedule schedule) {

    /** Where the database lives: an external server ({@code url} present) or the embedded one. */
    public record Database(Optional<String> url, String user, Optional<String> password, int poolSize,
                           Duration connectTimeout, Path embeddedDataDir, int embeddedPort) {
        public boolean embedded() {
            return url.isEmpty();
        }
    }

    /** The AES-256 key that encrypts private keys at rest: given inline, or read from (or generated into) a file. */
    public record Secrets(Optional<String> inlineKey, Path keyFile) {
    }

    public enum KeyType { EC_P256, RSA_2048, RSA_3072 }

    public record Acme(String stagingDirectory, String productionDirectory, boolean termsAgreed,
                       Optional<String> contact, Optional<Path> trustedCaFile, KeyType keyType, Duration timeout,
                       int sessions, int stagingRequestsPerSecond, int productionRequestsPerSecond,
                       Optional<String> profile) {
    }

    public record Pipeline(int parallelBatches, Duration freshFor, Duration authzReuseMargin, Duration pollInterval,
                           int maxAttempts,
                           int maxProductionReorders, Duration quarantineBackoff, Duration runTimeout,
                           long stagingOrdersPer3h, long productionOrdersPer3h, long certificatesPerDomainPer7d,
                           long certificatesPerExactSetPer7d, long stagingFailedAuthorizationsPerHour,
                           long productionFailedAuthorizationsPerHour, int pauseGuardFailures) {
    }

    public enum Grouping { CUSTOMER, PER_CUSTOMER }

    public record Batch(int maxNames, Grouping grouping) {
    }

    public record Precheck(List<String> resolvers, Duration timeout, int tries, int concurrency, boolean sweep,
                           boolean holdAtRisk, List<String> canary, String caIdentity, String method,
                           double degradedShare, int degradedMinDomains, Optional<Path> dnssecAnchor,
                           int sweepPort) {
    }

    public record Http01(String bind, int port) {
    }

    public record Ops(String bind, int port) {
    }

    /** @param window how long after each nightly firing new orders may start (in-flight batches always finish) */
    public record Schedule(String cron, ZoneId timeZone, java.time.Duration window) {
    }
}
