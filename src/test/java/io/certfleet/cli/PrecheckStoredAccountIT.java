package io.certfleet.cli;

import io.certfleet.model.CaEnvironment;
import io.certfleet.store.AccountStore;
import io.certfleet.store.SecretBox;
import io.certfleet.testsupport.Cli;
import io.certfleet.testsupport.TestDatabase;
import io.certfleet.testsupport.dns.TestDnsServer;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code precheck} compares CAA {@code accounturi} with the stored account of {@code --environment} when no
 * {@code --account-uri} is given: staging and production accounts differ, so a name can pass one and fail the
 * other.
 */
class PrecheckStoredAccountIT {
    @Test
    void accountUriDefaultsToTheStoredAccountOfTheEnvironment() throws Exception {
        TestDatabase db = TestDatabase.get();
        db.clean();
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        var accounts = new AccountStore(db.store, new SecretBox(key));
        accounts.save(CaEnvironment.STAGING, "https://staging.test/dir", "https://staging.test/acct/7", "k".toCharArray());
        accounts.save(CaEnvironment.PRODUCTION, "https://prod.test/dir", "https://prod.test/acct/9", "k".toCharArray());
        try (TestDnsServer dns = TestDnsServer.start("127.0.0.1")) {
            dns.caa("pinned.example", 0, "issue", "letsencrypt.org; accounturi=https://prod.test/acct/9");
            String[] common = {"precheck", "pinned.example", "--resolver", dns.hostPort(), "--format", "json",
                    "--canary", "example"};
            Cli.Result prod = Cli.run(db.overrides(), null, concat(common, "--environment", "production"));
            assertThat(prod.exitCode()).as(prod.err() + prod.out()).isZero();
            assertThat(prod.out()).contains("\"reason\":\"CAA_PERMITS\"");
            Cli.Result staging = Cli.run(db.overrides(), null, concat(common, "--environment", "staging"));
            assertThat(staging.exitCode()).isEqualTo(1);
            assertThat(staging.out()).contains("\"reason\":\"CAA_ACCOUNTURI_MISMATCH\"");
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
