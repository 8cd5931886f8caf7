package io.certfleet.pipeline;

import io.certfleet.acme.AuthorizationState;
import io.certfleet.acme.CaStatus;
import io.certfleet.acme.Http01Proof;
import io.certfleet.model.BatchTransition.Reason;
import io.certfleet.model.CaEnvironment;
import io.certfleet.model.CaProblem;
import io.certfleet.store.BatchStore;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Regression: a kill -9 while the CA validated left no responder to answer, and the restarted process quarantined
 * the names ({@code CA_CONNECTION}) for its own crash (PipelineCrashPointsIT: 6 of 490 good names, two of them in
 * production orders).
 */
class TriggersTest {
    private static final String CONNECTION = "urn:ietf:params:acme:error:connection";
    private final Triggers triggers = new Triggers();
    private final List<Collection<Long>> asked = new ArrayList<>();

    @Test
    void aConnectionFailureOfAChallengeAnEarlierProcessTriggeredIsRetriedNotBlamed() {
        Triggers.Verdict v = triggers.judge(CaEnvironment.STAGING, Map.of(1L, reason()),
                Map.of(1L, invalid(1, CONNECTION)), this::noneRetried);

        assertThat(v.blamed()).isEmpty();
        assertThat(v.retried()).containsOnlyKeys(1L);
        assertThat(v.retried().get(1L).code()).isEqualTo(BatchStore.RETRIED);
        assertThat(v.retried().get(1L).detail()).contains("connection refused", "earlier certfleet process",
                "staging");
    }

    @Test
    void aConnectionFailureOfAChallengeThisProcessTriggeredIsTheNamesOwn() {
        triggers.triggering(url(1));

        Triggers.Verdict v = triggers.judge(CaEnvironment.STAGING, Map.of(1L, reason()),
                Map.of(1L, invalid(1, CONNECTION)), this::noneRetried);

        assertThat(v.blamed()).containsOnlyKeys(1L);
        assertThat(v.retried()).isEmpty();
        assertThat(asked).as("no need to look up earlier retries").isEmpty();
    }

    @Test
    void aSecondUnverifiedFailureInARowIsBlamed() {
        Triggers.Verdict v = triggers.judge(CaEnvironment.PRODUCTION, Map.of(1L, reason(), 2L, reason()),
                Map.of(1L, invalid(1, CONNECTION), 2L, invalid(2, CONNECTION)), ids -> {
                    asked.add(ids);
                    return Set.of(2L);
                });

        assertThat(v.retried()).containsOnlyKeys(1L);
        assertThat(v.blamed()).containsOnlyKeys(2L);
        assertThat(asked).hasSize(1);
    }

    @Test
    void otherFailuresAreBlamedWhoeverTriggered() {
        Triggers.Verdict v = triggers.judge(CaEnvironment.STAGING, Map.of(1L, reason(), 2L, reason()),
                Map.of(1L, invalid(1, "urn:ietf:params:acme:error:unauthorized"),
                        2L, invalid(2, "urn:ietf:params:acme:error:dns")), this::noneRetried);

        assertThat(v.blamed()).containsOnlyKeys(1L, 2L);
        assertThat(v.retried()).isEmpty();
    }

    @Test
    void aChallengeSeenToEndIsForgotten() {
        triggers.triggering(url(1));
        triggers.ended(url(1));

        Triggers.Verdict v = triggers.judge(CaEnvironment.STAGING, Map.of(1L, reason()),
                Map.of(1L, invalid(1, CONNECTION)), this::noneRetried);

        assertThat(v.retried()).containsOnlyKeys(1L);
    }

    private Set<Long> noneRetried(Collection<Long> ids) {
        asked.add(ids);
        return Set.of();
    }

    private static Reason reason() {
        return new Reason("CA_CONNECTION", "staging validation: dial tcp 127.0.0.1:80: connect: connection refused");
    }

    private static AuthorizationState invalid(int n, String problemType) {
        URL challenge = toUrl("https://ca.test/chal/" + n);
        Http01Proof proof = new Http01Proof(challenge, "token" + n, "token" + n + ".key", CaStatus.INVALID,
                Optional.empty(), Optional.of(new CaProblem(problemType, "failed", Optional.empty(), List.of())));
        return new AuthorizationState(url(n), "n" + n + ".example", false, CaStatus.INVALID, Optional.empty(),
                Optional.of(proof), Optional.empty());
    }

    private static URL url(int n) {
        return toUrl("https://ca.test/authz/" + n);
    }

    private static URL toUrl(String s) {
        try {
            return URI.create(s).toURL();
        } catch (java.net.MalformedURLException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
