package io.certfleet.app;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.certfleet.config.SettingsLoader;
import io.certfleet.model.DomainName;
import io.certfleet.model.NewDomain;
import io.certfleet.store.SecretKeys;
import io.certfleet.testsupport.TestDatabase;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The daemon starts while the CA is unreachable, answers /healthz, /readyz and /metrics from the database, serves
 * HTTP-01 liveness, records the CA limits it keeps to, and stops in order.
 */
class DaemonIT {
    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> get(int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void startsWithoutTheCaAndReportsHealthReadinessAndMetrics() throws Exception {
        TestDatabase db = TestDatabase.get();
        db.clean();
        int opsPort = TestDatabase.freePort();
        int httpPort = TestDatabase.freePort();
        Map<String, String> o = new HashMap<>(db.overrides());
        o.put("ops.port", Integer.toString(opsPort));
        o.put("http01.bind", "127.0.0.1");
        o.put("http01.port", Integer.toString(httpPort));
        o.put("acme.staging.directory", "https://127.0.0.1:1/dir"); // nothing listens: the CA is unreachable
        o.put("acme.production.directory", "https://127.0.0.1:1/dir");
        o.put("budget.production.new-orders-per-3h", "250");
        // two secrets given in clear: the database's own key (so it still opens the stored keys) and a password
        Path keyFile = Path.of(o.get("data.dir"), "secrets.key");
        if (!Files.exists(keyFile)) {
            SecretKeys.generate(keyFile); // what the first command in this JVM would have done
        }
        String key = Files.readString(keyFile).strip();
        o.put("secrets.key", key);
        o.put("db.password", "hunter2-in-clear"); // ignored by the embedded server, masked all the same
        ListAppender<ILoggingEvent> log = capture();
        Certfleet app;
        try {
            app = Certfleet.openDaemon(SettingsLoader.load(Optional.empty(), Map.of(), o));
        } finally {
            release(log);
        }
        List<String> info = log.list.stream().filter(e -> e.getLevel() == Level.INFO)
                .map(ILoggingEvent::getFormattedMessage).filter(m -> m.startsWith("configuration")).toList();
        assertThat(info).as("the daemon logs its effective configuration once at INFO").singleElement()
                .satisfies(m -> assertThat(m).contains("secrets.key = ****  [--set]")
                        .contains("db.password = ****  [--set]").contains("ops.port = " + opsPort + "  [--set]")
                        .contains("batch.max-names = 100  [default]").doesNotContain(key)
                        .doesNotContain("hunter2-in-clear"));
        assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage).noneMatch(m -> m.contains(key));
        try {
            app.domains().insertNew(List.of(
                    new NewDomain(DomainName.parse("a.daemon.example"), "a.daemon.example", Optional.empty()),
                    new NewDomain(DomainName.parse("b.daemon.example"), "b.daemon.example", Optional.empty())));
            new Daemon(app, Clock.systemUTC()).start();

            assertThat(get(opsPort, "/healthz").statusCode()).isEqualTo(200);
            HttpResponse<String> ready = get(opsPort, "/readyz");
            assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
            HttpResponse<String> metrics = get(opsPort, "/metrics");
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.body()).contains("certfleet_domains{state=\"pending\"} 2.0")
                    .contains("certfleet_budget_new_orders_left{environment=\"staging\"} 1500.0");
            assertThat(get(opsPort, "/nope").statusCode()).isEqualTo(404);
            assertThat(get(httpPort, "/healthz").statusCode()).isEqualTo(200); // the HTTP-01 responder is up
            // the limits it keeps to are in the database for v_budget, from its configuration
            try (var c = app.database().dataSource().getConnection(); var st = c.createStatement();
                 var rs = st.executeQuery("SELECT string_agg(limit_name || '/' || environment || '=' || limit_value,"
                         + " ',' ORDER BY limit_name, environment) FROM budget_limit")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("CERTIFICATES_PER_DOMAIN/production=50,EXACT_SET/production=5,"
                        + "FAILED_AUTHORIZATIONS/production=5,FAILED_AUTHORIZATIONS/staging=200,"
                        + "NEW_ORDERS/production=250,NEW_ORDERS/staging=1500");
            }
        } finally {
            app.close();
        }
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> get(opsPort, "/healthz")))
                .as("the ops endpoint stops with the daemon").isNotNull();

        ListAppender<ILoggingEvent> quiet = capture();
        try (Certfleet command = Certfleet.open(SettingsLoader.load(Optional.empty(), Map.of(), o))) {
            assertThat(command.settings().ops().port()).isEqualTo(opsPort);
        } finally {
            release(quiet);
        }
        assertThat(quiet.list).as("other commands log the configuration at DEBUG only")
                .filteredOn(e -> e.getFormattedMessage().startsWith("configuration")).isNotEmpty()
                .allMatch(e -> e.getLevel() == Level.DEBUG);
    }

    /** Records every event of the composition root's logger, DEBUG included. */
    private static ListAppender<ILoggingEvent> capture() {
        Logger logger = (Logger) LoggerFactory.getLogger(Certfleet.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        logger.setLevel(Level.DEBUG);
        return appender;
    }

    private static void release(ListAppender<ILoggingEvent> appender) {
        Logger logger = (Logger) LoggerFactory.getLogger(Certfleet.class);
        logger.detachAppender(appender);
        logger.setLevel(null);
    }
}
