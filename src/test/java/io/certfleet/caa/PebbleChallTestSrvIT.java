package io.certfleet.caa;

import io.certfleet.model.PrecheckReason;
import io.certfleet.model.PrecheckRun;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Against Debian's pebble-challtestsrv mock DNS (the resolver Pebble uses in the ACME tests), programmed through its
 * management API. Fails (never skips) when the binary is missing.
 */
class PebbleChallTestSrvIT {

    static final Path BINARY = Path.of("/usr/bin/pebble-challtestsrv");
    static Process process;
    static int dnsPort;
    static int mgmtPort;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        if (!Files.isExecutable(BINARY)) {
            fail(BINARY + " is missing: install it with 'apt-get install pebble' (Debian package pebble ships"
                    + " pebble-challtestsrv)");
        }
        dnsPort = freePort();
        mgmtPort = freePort();
        process = new ProcessBuilder(BINARY.toString(), "-dns01", "127.0.0.1:" + dnsPort, "-http01", "",
                "-https01", "", "-tlsalpn01", "", "-management", "127.0.0.1:" + mgmtPort)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            try (Socket s = new Socket("127.0.0.1", mgmtPort)) {
                break;
            } catch (IOException e) {
                if (System.nanoTime() > deadline || !process.isAlive()) {
                    fail("pebble-challtestsrv did not start on management port " + mgmtPort);
                }
                Thread.sleep(50);
            }
        }
        post("/add-caa", "{\"host\":\"permit.example.com\",\"policies\":[{\"tag\":\"issue\",\"value\":\"letsencrypt.org\"}]}");
        post("/add-caa", "{\"host\":\"forbid.example.com\",\"policies\":[{\"tag\":\"issue\",\"value\":\"ca.com\"}]}");
        post("/add-caa", "{\"host\":\"present.servfail.example.com\",\"policies\":[{\"tag\":\"issue\",\"value\":\"letsencrypt.org\"}]}");
        post("/set-servfail", "{\"host\":\"servfail.example.com\"}");
    }

    static int freePort() throws IOException {
        for (int i = 0; i < 20; i++) {
            try (ServerSocket t = new ServerSocket(0)) {
                int p = t.getLocalPort();
                try (DatagramSocket u = new DatagramSocket(p)) {
                    return p;
                } catch (IOException e) {
                    // UDP side taken; try another
                }
            }
        }
        throw new IOException("no free port");
    }

    static void post(String path, String body) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + mgmtPort + path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path + " " + body).isEqualTo(200);
    }

    @AfterAll
    static void stop() {
        if (process != null) {
            process.destroy();
        }
    }

    @Test
    void verdictsAgainstTheMockDns() throws Exception {
        CaaSettings s = CaaSettings.defaults().withResolvers(List.of("127.0.0.1:" + dnsPort))
                .withTimeout(Duration.ofMillis(500), 2).withSweep(false, 53)
                .withCa(List.of("letsencrypt.org"), Optional.empty(), "http-01");
        try (CaaChecker c = CaaChecker.create(s)) {
            PrecheckRun run = c.check(List.of("permit.example.com", "forbid.example.com", "nothing.example.com",
                    "a.servfail.example.com", "present.servfail.example.com", "servfail.example.com"));
            assertThat(run.degraded()).isFalse();
            assertThat(run.results()).extracting(r -> r.reason()).containsExactly(PrecheckReason.CAA_PERMITS,
                    PrecheckReason.CAA_FORBIDS, PrecheckReason.NO_CAA, PrecheckReason.DNS_SERVFAIL,
                    PrecheckReason.CAA_PERMITS, PrecheckReason.DNS_SERVFAIL);
            assertThat(run.results().get(3).level()).contains("servfail.example.com");
        }
    }
}
