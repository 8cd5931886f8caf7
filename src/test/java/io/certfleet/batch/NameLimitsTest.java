package io.certfleet.batch;

import io.certfleet.model.CaEnvironment;
import io.certfleet.model.CaLimit;
import io.certfleet.model.CaLimitWait;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class NameLimitsTest {
    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
    private static final NameLimits.Name SHOP = new NameLimits.Name(1, "shop.example.com", Optional.of("example.com"));
    private static final NameLimits.Name BLOG = new NameLimits.Name(2, "blog.example.com", Optional.of("example.com"));
    private static final NameLimits.Name OTHER = new NameLimits.Name(3, "www.other.org", Optional.of("other.org"));

    private static NameLimits.Facts facts(Map<String, List<Instant>> productionFailures, Map<String, Integer> streaks,
                                          List<CaLimitWait> waits) {
        return new NameLimits.Facts(Map.of(CaEnvironment.PRODUCTION, productionFailures, CaEnvironment.STAGING,
                Map.of()), Map.of(CaEnvironment.PRODUCTION, 5L, CaEnvironment.STAGING, 200L), streaks, 10, waits, NOW);
    }

    private static Instant ago(int minutes) {
        return NOW.minus(Duration.ofMinutes(minutes));
    }

    @Test
    void aNameAtTheFailedAuthorizationLimitWaitsUntilTheOldestFailureLeavesTheHour() {
        var failures = Map.of("shop.example.com", List.of(ago(55), ago(40), ago(30), ago(20), ago(5)),
                "blog.example.com", List.of(ago(50), ago(40), ago(30), ago(20)));
        List<NameLimits.Hold> holds = NameLimits.check(List.of(SHOP, BLOG, OTHER), facts(failures, Map.of(), List.of()));
        assertThat(holds).singleElement().satisfies(h -> {
            assertThat(h.domainId()).isEqualTo(1);
            assertThat(h.reason()).isEqualTo("BUDGET_FAILED_AUTHORIZATIONS");
            assertThat(h.until()).contains(ago(55).plus(Duration.ofHours(1)));
            assertThat(h.detail()).contains("5 authorizations", "production");
        });
    }

    @Test
    void theCasWaitForARegisteredDomainHoldsEveryNameOfItAndAWaitForANameOnlyThatName() {
        Instant domainUntil = NOW.plus(Duration.ofHours(30));
        Instant nameUntil = NOW.plus(Duration.ofMinutes(50));
        var waits = List.of(
                new CaLimitWait(CaEnvironment.PRODUCTION, CaLimit.CERTIFICATES_PER_DOMAIN,
                        CaLimit.Scope.REGISTERED_DOMAIN, "example.com", domainUntil, "too many certificates (50)"),
                new CaLimitWait(CaEnvironment.STAGING, CaLimit.FAILED_AUTHORIZATIONS, CaLimit.Scope.NAME,
                        "www.other.org", nameUntil, "too many failed authorizations (5)"),
                new CaLimitWait(CaEnvironment.PRODUCTION, CaLimit.NEW_ORDERS, CaLimit.Scope.ACCOUNT, "",
                        NOW.plus(Duration.ofHours(2)), "too many new orders"));
        List<NameLimits.Hold> holds = NameLimits.check(List.of(SHOP, BLOG, OTHER), facts(Map.of(), Map.of(), waits));
        assertThat(holds).extracting(NameLimits.Hold::domainId, NameLimits.Hold::reason, NameLimits.Hold::until)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(1L, "RATE_LIMITED_CERTIFICATES_PER_DOMAIN", Optional.of(domainUntil)),
                        org.assertj.core.groups.Tuple.tuple(2L, "RATE_LIMITED_CERTIFICATES_PER_DOMAIN", Optional.of(domainUntil)),
                        org.assertj.core.groups.Tuple.tuple(3L, "RATE_LIMITED_FAILED_AUTHORIZATIONS", Optional.of(nameUntil)));
        assertThat(holds.get(0).detail()).contains("example.com", "too many certificates (50)");
    }

    @Test
    void aWaitThatEndedHoldsNothing() {
        var waits = List.of(new CaLimitWait(CaEnvironment.PRODUCTION, CaLimit.EXACT_SET, CaLimit.Scope.NAME,
                "shop.example.com", NOW.minusSeconds(1), "too many certificates (5) for this exact set"));
        assertThat(NameLimits.check(List.of(SHOP), facts(Map.of(), Map.of(), waits))).isEmpty();
    }

    @Test
    void whenSeveralLimitsApplyTheNameWaitsForTheLatest() {
        Instant until = NOW.plus(Duration.ofMinutes(10));
        var waits = List.of(new CaLimitWait(CaEnvironment.PRODUCTION, CaLimit.FAILED_AUTHORIZATIONS,
                CaLimit.Scope.NAME, "shop.example.com", until, "too many failed authorizations (5)"));
        var failures = Map.of("shop.example.com", List.of(ago(45), ago(44), ago(43), ago(42), ago(41)));
        assertThat(NameLimits.check(List.of(SHOP), facts(failures, Map.of(), waits))).singleElement()
                .satisfies(h -> {
                    assertThat(h.reason()).isEqualTo("BUDGET_FAILED_AUTHORIZATIONS");
                    assertThat(h.until()).contains(ago(45).plus(Duration.ofHours(1)));
                });
    }

    @Test
    void thePauseGuardStopsANameUntilAnOperatorReleasesItWhateverElseApplies() {
        var failures = Map.of("shop.example.com", List.of(ago(45), ago(44), ago(43), ago(42), ago(41)));
        List<NameLimits.Hold> holds = NameLimits.check(List.of(SHOP, BLOG),
                facts(failures, Map.of("shop.example.com", 10, "blog.example.com", 9), List.of()));
        assertThat(holds).singleElement().satisfies(h -> {
            assertThat(h.domainId()).isEqualTo(1);
            assertThat(h.reason()).isEqualTo("PAUSE_GUARD");
            assertThat(h.stopped()).isTrue();
            assertThat(h.detail()).contains("10 authorizations", "certfleet release shop.example.com");
        });
    }
}
