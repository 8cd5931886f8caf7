package io.certfleet.intake;

import io.certfleet.model.DomainName;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RegisteredDomainsTest {
    private static String rd(String n) throws Exception {
        return RegisteredDomains.of(DomainName.parse(n)).orElse("-");
    }

    @Test
    void countsUnderThePublicSuffixListsRegisteredDomain() throws Exception {
        assertThat(rd("shop.example.com")).isEqualTo("example.com");
        assertThat(rd("a.b.example.co.uk")).isEqualTo("example.co.uk");
        assertThat(rd("*.example.org")).isEqualTo("example.org");
        assertThat(rd("bücher.example.de")).isEqualTo("example.de");
        assertThat(rd("myapp.github.io")).as("private suffix").isEqualTo("myapp.github.io");
        assertThat(rd("co.uk")).isEqualTo("-");
    }
}
