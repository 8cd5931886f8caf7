package io.certfleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.certfleet.testsupport.dns.TestDnsServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Rcode;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** The CLI contract end to end against the loopback test server. */
class PrecheckCommandIT {

    static TestDnsServer dns;

    @BeforeAll
    static void start() throws Exception {
        dns = TestDnsServer.start("127.0.0.1");
        dns.caa("ok.test", 0, "issue", "letsencrypt.org")
                .caa("other.test", 0, "issue", "ca.com")
                .caa("acct.test", 0, "issue", "letsencrypt.org; accounturi=https://acme-staging-v02.api.letsencrypt.org/acme/acct/9")
                .caa("staging.test", 0, "issue", "staging.example")
                .rcode("broken.test", Rcode.SERVFAIL);
    }

    @AfterAll
    static void stop() {
        dns.close();
    }

    static PrecheckCommandTest.Result run(PrecheckCommand cmd, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(cmd);
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new PrecheckCommandTest.Result(exit, out.toString(), err.toString());
    }

    String[] args(String... extra) {
        List<String> a = new java.util.ArrayList<>(List.of("--resolver", dns.hostPort(), "--timeout", "300ms",
                "--tries", "2"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void jsonOnePerLineAndExitCodes() throws Exception {
        PrecheckCommandTest.Result r = run(new PrecheckCommand(), args("--format", "json", "www.ok.test",
                "*.other.test", "a.broken.test"));
        assertThat(r.exit()).isEqualTo(1);
        List<JsonNode> lines = r.out().lines().map(l -> {
            try {
                return new ObjectMapper().readTree(l);
            } catch (Exception e) {
                throw new AssertionError(l, e);
            }
        }).toList();
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0).get("name").asText()).isEqualTo("www.ok.test");
        assertThat(lines.get(0).get("verdict").asText()).isEqualTo("allowed");
        assertThat(lines.get(0).get("reason").asText()).isEqualTo("CAA_PERMITS");
        assertThat(lines.get(0).get("level").asText()).isEqualTo("ok.test");
        assertThat(lines.get(0).has("elapsed_ms")).isTrue();
        assertThat(lines.get(1).get("name").asText()).isEqualTo("*.other.test");
        assertThat(lines.get(1).get("wildcard").asBoolean()).isTrue();
        assertThat(lines.get(1).get("verdict").asText()).isEqualTo("blocked");
        assertThat(lines.get(1).get("evidence").get("records").get(0).asText()).contains("ca.com");
        assertThat(lines.get(2).get("reason").asText()).isEqualTo("DNS_SERVFAIL");
        assertThat(lines.get(2).get("detail").asText()).contains("SERVFAIL for broken.test (CAA)");

        assertThat(run(new PrecheckCommand(), args("www.ok.test")).exit()).isEqualTo(0);
    }

    @Test
    void tableGroupsByVerdictAndReasonWithCounts() {
        PrecheckCommandTest.Result r = run(new PrecheckCommand(), args("a.ok.test", "b.ok.test", "x.other.test"));
        assertThat(r.out()).contains("BLOCKED CAA_FORBIDS (1)", "ALLOWED CAA_PERMITS (2)",
                "allowed 2, blocked 1, at-risk 0 of 3 names");
        assertThat(r.out().indexOf("BLOCKED")).isLessThan(r.out().indexOf("ALLOWED"));
    }

    @Test
    void accountUriFromOptionOrFromTheStoredAccountSeam() {
        String acct = "https://acme-staging-v02.api.letsencrypt.org/acme/acct/9";
        assertThat(run(new PrecheckCommand(), args("acct.test")).exit()).isEqualTo(1);
        assertThat(run(new PrecheckCommand(), args("--account-uri", acct, "acct.test")).exit()).isEqualTo(0);
        PrecheckCommand wired = new PrecheckCommand(env -> env.equals("staging") ? Optional.of(acct) : Optional.empty());
        assertThat(run(wired, args("--environment", "staging", "acct.test")).exit()).isEqualTo(0);
        assertThat(run(wired, args("--environment", "production", "acct.test")).exit()).isEqualTo(1);
    }

    @Test
    void caIdentityAndMethodOptions() {
        assertThat(run(new PrecheckCommand(), args("staging.test")).exit()).isEqualTo(1);
        assertThat(run(new PrecheckCommand(), args("--ca-identity", "staging.example", "staging.test")).exit())
                .isEqualTo(0);
    }
}
