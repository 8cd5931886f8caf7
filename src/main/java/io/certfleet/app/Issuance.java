package io.certfleet.app;

import io.certfleet.acme.AcmeClient;
import io.certfleet.acme.AcmeSettings;
import io.certfleet.acme.CaProfiles;
import io.certfleet.acme.CaException;
import io.certfleet.acme.Keys;
import io.certfleet.batch.Packer;
import io.certfleet.caa.CaaChecker;
import io.certfleet.caa.CaaSettings;
import io.certfleet.caa.ProgressListener;
import io.certfleet.challenge.ChallengePublisher;
import io.certfleet.challenge.DatabaseHttp01Publisher;
import io.certfleet.challenge.Http01Responder;
import io.certfleet.config.ConfigException;
import io.certfleet.config.Settings;
import io.certfleet.model.CaEnvironment;
import io.certfleet.model.OrderWindow;
import io.certfleet.model.PrecheckRun;
import io.certfleet.pipeline.Accounts;
import io.certfleet.pipeline.CaSession;
import io.certfleet.pipeline.CycleSummary;
import io.certfleet.pipeline.Pipeline;
import io.certfleet.pipeline.PipelineSettings;
import io.certfleet.pipeline.Prechecker;
import io.certfleet.store.AccountStore;
import io.certfleet.store.BatchStore;
import io.certfleet.store.CertificateStore;
import io.certfleet.store.HistoryStore;
import io.certfleet.store.Http01TokenStore;
import io.certfleet.store.PrecheckStore;
import io.certfleet.store.ReportStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Everything a run needs, built from the settings on an open {@link Certfleet}: the HTTP-01 responder, both
 * ACME clients and accounts, the CAA checkers (one per environment: {@code accounturi} differs) and the
 * pipeline. Registers its parts with the app's ordered shutdown.
 */
public final class Issuance {
    private static final Logger log = LoggerFactory.getLogger(Issuance.class);

    private final Pipeline pipeline;
    private final Http01Responder responder;
    private final RunLog runs;

    private Issuance(Pipeline pipeline, Http01Responder responder, RunLog runs) {
        this.pipeline = pipeline;
        this.responder = responder;
        this.runs = runs;
    }

    /** The HTTP-01 responder and its publisher, up before any order is placed (and while the CA is unreachable). */
    public record Responder(Http01Responder server, ChallengePublisher publisher) {
    }

    /** Starts the HTTP-01 responder on {@code http01.bind:http01.port}; it stops with the app. */
    public static Responder startResponder(Certfleet app, Clock clock) {
        Settings s = app.settings();
        var tokens = new Http01TokenStore(app.store());
        Http01Responder responder;
        try {
            responder = Http01Responder.start(tokens, Http01Responder.Options.of(s.http01().bind(), s.http01().port()), clock);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the HTTP-01 responder on " + s.http01().bind() + ":"
                    + s.http01().port() + " (http01.bind / http01.port): " + e.getMessage(), e);
        }
        app.onStop("HTTP-01 responder", responder);
        log.info("http-01: responder listening on {}:{}", s.http01().bind(), responder.port());
        return new Responder(responder, new DatabaseHttp01Publisher(tokens, responder));
    }

    /** Starts the responder, then connects to both CAs (creating accounts on first use) and builds the pipeline. */
    public static Issuance start(Certfleet app, Clock clock) throws CaException {
        return start(app, clock, startResponder(app, clock));
    }

    /** Connects to both CAs (creating accounts on first use) and builds the pipeline on a running responder. */
    public static Issuance start(Certfleet app, Clock clock, Responder responder) throws CaException {
        return start(app, clock, responder, java.util.function.UnaryOperator.identity());
    }

    /**
     * As {@link #start(Certfleet, Clock, Responder)}, with the pre-check wrapped by {@code precheckDecorator}
     * (tools and tests that watch or time the pre-checks).
     */
    public static Issuance start(Certfleet app, Clock clock, Responder responder,
                                 java.util.function.UnaryOperator<Prechecker> precheckDecorator) throws CaException {
        return start(app, clock, responder, precheckDecorator, io.certfleet.acme.RequestListener.NONE);
    }

    /** As above, telling {@code listener} about every HTTP exchange with either CA (metrics). */
    public static Issuance start(Certfleet app, Clock clock, Responder responder,
                                 java.util.function.UnaryOperator<Prechecker> precheckDecorator,
                                 io.certfleet.acme.RequestListener listener) throws CaException {
        return start(app, clock, responder, precheckDecorator, listener, OrderWindow.ALWAYS_OPEN);
    }

    /** As above, starting new orders only while {@code orderWindow} is open (the daemon's nightly window). */
    public static Issuance start(Certfleet app, Clock clock, Responder responder,
                                 java.util.function.UnaryOperator<Prechecker> precheckDecorator,
                                 io.certfleet.acme.RequestListener listener, OrderWindow orderWindow)
            throws CaException {
        Settings s = app.settings();
        var publisher = responder.publisher();
        var accounts = new AccountStore(app.store(), app.secrets());
        Optional<String> trusted = s.acme().trustedCaFile().map(p -> {
            try {
                return Files.readString(p);
            } catch (IOException e) {
                throw new ConfigException("acme.trusted-ca-file", "cannot read " + p + ": " + e.getMessage(), e);
            }
        });
        Map<CaEnvironment, CaSession> sessions = new EnumMap<>(CaEnvironment.class);
        Map<CaEnvironment, CaaChecker> checkers = new EnumMap<>(CaEnvironment.class);
        try {
            for (CaEnvironment env : CaEnvironment.values()) {
                String dir = env == CaEnvironment.STAGING ? s.acme().stagingDirectory() : s.acme().productionDirectory();
                var acmeSettings = new AcmeSettings(env, URI.create(dir), trusted, s.acme().timeout(), s.acme().sessions(),
                        env == CaEnvironment.STAGING ? s.acme().stagingRequestsPerSecond()
                                : s.acme().productionRequestsPerSecond()).withProfile(s.acme().profile());
                AcmeClient client = AcmeClient.create(acmeSettings, clock, listener);
                var directory = client.directory();
                // before any account is created at a CA that cannot serve what is configured
                if (s.acme().profile().isPresent() && !directory.profiles().containsKey(s.acme().profile().get())) {
                    throw new ConfigException("acme.profile", "the " + env.wire() + " CA at " + dir
                            + " does not offer the profile '" + s.acme().profile().get() + "'; it offers "
                            + (directory.profiles().isEmpty() ? "no profiles" : directory.profiles().keySet()));
                }
                CaSession session = Accounts.ensure(client, dir, accounts, s.acme().termsAgreed(),
                        s.acme().contact().map(URI::create));
                session = session.withRenewalInfo(directory.renewalInfo());
                accounts.recordRenewalInfo(session.accountId(), directory.renewalInfo());
                sessions.put(env, session);
                List<String> identities = directory.caaIdentities();
                // production names are rehearsed on staging first: their CAA must let the staging account issue too
                Optional<String> rehearsal = env == CaEnvironment.PRODUCTION && sessions.containsKey(CaEnvironment.STAGING)
                        ? Optional.of(sessions.get(CaEnvironment.STAGING).accountUrl()) : Optional.empty();
                CaaChecker checker = checker(s, identities.isEmpty() ? List.of(s.precheck().caIdentity()) : identities,
                        session.accountUrl(), rehearsal);
                checkers.put(env, checker);
                log.info("{}: account {} at {}; CAA identities {}", env.wire(), session.accountUrl(), dir, identities);
            }
        } catch (CaException | RuntimeException e) {
            // the daemon retries at its next firing: close what this attempt opened
            checkers.values().forEach(CaaChecker::close);
            throw e;
        }
        checkers.forEach((env, checker) -> app.onStop("CAA checker (" + env.wire() + ")", checker));
        Prechecker prechecker = precheckDecorator.apply(new Prechecker() {
            @Override
            public PrecheckRun check(List<String> ids, CaEnvironment env) {
                return checkers.get(env).check(ids);
            }

            @Override
            public PrecheckRun recheck(List<String> ids, CaEnvironment env) {
                return checkers.get(env).check(ids, ProgressListener.NONE, false);
            }
        });
        Pipeline pipeline = new Pipeline(new BatchStore(app.store()), new CertificateStore(app.store(), app.secrets()),
                new PrecheckStore(app.store()), new ReportStore(app.store()), sessions, publisher, prechecker,
                pipelineSettings(s).withOrderWindow(orderWindow), keyType(s.acme().keyType()), clock, nodeName());
        app.onStop("pipeline", pipeline);
        RunLog.publishLimits(app, nodeName());
        return new Issuance(pipeline, responder.server(), new RunLog(new HistoryStore(app.store()), clock, nodeName()));
    }

    static CaaChecker checker(Settings s, List<String> identities, String accountUrl, Optional<String> rehearsal) {
        Settings.Precheck p = s.precheck();
        CaaSettings c = CaaSettings.defaults().withResolvers(p.resolvers()).withTimeout(p.timeout(), p.tries())
                .withConcurrency(p.concurrency()).withSweep(p.sweep(), p.sweepPort())
                .withCa(identities, Optional.of(accountUrl), p.method())
                .withHealth(p.canary(), p.degradedShare(), p.degradedMinDomains())
                .withDnssecAnchor(p.dnssecAnchor())
                .withRehearsalAccount(rehearsal);
        try {
            return CaaChecker.create(c);
        } catch (IOException | IllegalArgumentException e) {
            throw new ConfigException("precheck.resolvers", "cannot set up the CAA checker: " + e.getMessage(), e);
        }
    }

    /** What the next run would do, from the database alone (no CA or DNS contact). */
    public static io.certfleet.pipeline.Plan plan(Certfleet app, Clock clock) {
        Settings s = app.settings();
        AccountStore accounts = new AccountStore(app.store(), app.secrets());
        Optional<Long> account = accounts.accountId(CaEnvironment.PRODUCTION, s.acme().productionDirectory());
        Optional<Long> staging = accounts.accountId(CaEnvironment.STAGING, s.acme().stagingDirectory());
        return Pipeline.plan(new PrecheckStore(app.store()), new BatchStore(app.store()), pipelineSettings(s), clock,
                account, staging, accounts.renewalInfo(CaEnvironment.PRODUCTION, s.acme().productionDirectory()));
    }

    static PipelineSettings pipelineSettings(Settings s) {
        Settings.Pipeline p = s.pipeline();
        Packer.Grouping g = s.batch().grouping() == Settings.Grouping.PER_CUSTOMER
                ? Packer.Grouping.ONE_CERTIFICATE_PER_CUSTOMER : Packer.Grouping.KEEP_CUSTOMERS_TOGETHER;
        // an order of a profile holds at most its limit (tlsserver and shortlived: 25 names)
        int maxNames = CaProfiles.maxNames(s.acme().profile(), s.batch().maxNames());
        return new PipelineSettings(maxNames, g, p.freshFor(), s.precheck().holdAtRisk(),
                p.parallelBatches(), p.pollInterval(), p.maxAttempts(), p.maxProductionReorders(),
                p.quarantineBackoff(), Duration.ofDays(7), Duration.ofSeconds(30), p.authzReuseMargin(),
                new PipelineSettings.Limits(p.stagingOrdersPer3h(), p.productionOrdersPer3h(),
                        p.certificatesPerDomainPer7d(), p.certificatesPerExactSetPer7d(),
                        p.stagingFailedAuthorizationsPerHour(), p.productionFailedAuthorizationsPerHour(),
                        p.pauseGuardFailures()), OrderWindow.ALWAYS_OPEN);
    }

    static Keys.Type keyType(Settings.KeyType t) {
        return switch (t) {
            case EC_P256 -> Keys.Type.EC_P256;
            case RSA_2048 -> Keys.Type.RSA_2048;
            case RSA_3072 -> Keys.Type.RSA_3072;
        };
    }

    static String nodeName() {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "localhost";
        }
        return host + ":" + ProcessHandle.current().pid();
    }

    public Pipeline pipeline() {
        return pipeline;
    }

    /** One whole cycle ({@code run --once}), recorded as a run, with a fleet sample at its end. */
    public CycleSummary runOnce(Duration maxDuration) throws InterruptedException {
        OptionalLong run = runs.started("once");
        try {
            return pipeline.runOnce(maxDuration);
        } finally {
            runs.ended(run);
        }
    }

    /**
     * The nightly admission, recorded as a run, with a fleet sample at its end; its batches then advance with
     * the daemon's step job.
     */
    public void admitNightly() {
        OptionalLong run = runs.started("nightly");
        try {
            pipeline.admit();
        } finally {
            runs.ended(run);
        }
    }

    public int responderPort() {
        return responder.port();
    }

}
