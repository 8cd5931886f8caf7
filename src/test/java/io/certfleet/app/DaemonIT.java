package io.certfleet.app;

import io.certfleet.config.SettingsLoader;
import io.certfleet.model.DomainName;
import io.certfleet.model.NewDomain;
import io.certfleet.testsupport.TestDatabase;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
        Certfleet app = Certfleet.open(SettingsLoader.load(Optional.empty(), Map.of(), o));
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
    }
}
