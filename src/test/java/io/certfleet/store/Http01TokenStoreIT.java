package io.certfleet.store;

import io.certfleet.model.CaEnvironment;
import io.certfleet.model.Http01Token;
import io.certfleet.testsupport.TestDatabase;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The token table through Hibernate on the real embedded PostgreSQL, whose session time zone is not UTC. */
class Http01TokenStoreIT {
    private final TestDatabase db = TestDatabase.get();
    private final Http01TokenStore tokens = new Http01TokenStore(db.store);
    private final Instant now = Instant.parse("2025-03-30T01:30:00.123456Z");

    @BeforeEach
    void clean() {
        db.clean();
    }

    private static Http01Token token(String token, String thumb, Instant expires) {
        return new Http01Token(token, token + "." + thumb, "shop.example.com", CaEnvironment.PRODUCTION,
                Optional.of("https://ca.test/authz/" + token), expires);
    }

    @Test
    void aPublishedTokenComesBackWithEveryField() {
        Http01Token t = token("RoundTrip", "thumb", now.plusSeconds(3600));
        tokens.publish(t);
        assertThat(tokens.find("RoundTrip", now)).contains(t);

        Http01Token noAuthz = new Http01Token("NoAuthz", "NoAuthz.x", "a.example.com", CaEnvironment.STAGING,
                Optional.empty(), now.plusSeconds(60));
        tokens.publish(noAuthz);
        assertThat(tokens.find("NoAuthz", now)).contains(noAuthz);
    }

    @Test
    void expiryIsComparedAsAnInstantWhateverTheSessionTimeZone() throws Exception {
        tokens.publish(token("Expiry", "thumb", now));
        try (Connection c = db.database.dataSource().getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT extract(epoch FROM expires_at) FROM http01_token")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getBigDecimal(1)).isEqualByComparingTo("1743298200.123456");
        }
        assertThat(tokens.find("Expiry", now.minus(1, ChronoUnit.MICROS))).isPresent();
        assertThat(tokens.find("Expiry", now)).isEmpty();
    }

    @Test
    void publishingTheSameTokenAgainReplacesIt() {
        tokens.publish(token("Again", "first", now.plusSeconds(60)));
        tokens.publish(token("Again", "second", now.plusSeconds(120)));
        Http01Token found = tokens.find("Again", now).orElseThrow();
        assertThat(found.keyAuthorization()).isEqualTo("Again.second");
        assertThat(found.expiresAt()).isEqualTo(now.plusSeconds(120));
    }

    @Test
    void withdrawDeletesOnlyThatToken() {
        tokens.publish(token("Gone", "t", now.plusSeconds(60)));
        tokens.publish(token("Kept", "t", now.plusSeconds(60)));
        assertThat(tokens.withdraw("Gone")).isTrue();
        assertThat(tokens.withdraw("Gone")).isFalse();
        assertThat(tokens.find("Gone", now)).isEmpty();
        assertThat(tokens.find("Kept", now)).isPresent();
    }

    @Test
    void withdrawAllDeletesMoreTokensThanOneStatementTakes() {
        List<String> all = new ArrayList<>();
        for (int i = 0; i < 1_050; i++) {
            all.add("Bulk" + i);
        }
        db.store.inTransaction(s -> {
            for (String t : all) {
                s.createMutationQuery("insert into Http01TokenEntity (token, keyAuthorization, identifier,"
                                + " environment, expiresAt, createdAt) values (:t, :k, 'x.example.com', 'staging', :e,"
                                + " current_timestamp)")
                        .setParameter("t", t).setParameter("k", t + ".k").setParameter("e", now.plusSeconds(60))
                        .executeUpdate();
            }
            return null;
        });
        tokens.publish(token("Survivor", "t", now.plusSeconds(60)));

        assertThat(tokens.withdrawAll(all)).isEqualTo(1_050);
        assertThat(tokens.find("Bulk1049", now)).isEmpty();
        assertThat(tokens.find("Survivor", now)).isPresent();
    }

    @Test
    void malformedTokensNeverReachTheDatabase() {
        tokens.publish(token("Real", "t", now.plusSeconds(60)));
        assertThat(tokens.find("Real' OR '1'='1", now)).isEmpty();
        assertThat(tokens.find("../Real", now)).isEmpty();
        assertThat(tokens.find("", now)).isEmpty();
        assertThat(tokens.find("R".repeat(256), now)).isEmpty();
        assertThatThrownBy(() -> tokens.withdrawAll(List.of("Real", "bad/token")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bad/token");
        assertThat(tokens.find("Real", now)).as("nothing deleted when one is malformed").isPresent();
    }

    @Test
    void theLongestLegalTokenFitsTheSchemaCheck() {
        Http01Token longest = token("L".repeat(255), "t", now.plusSeconds(60));
        tokens.publish(longest);
        assertThat(tokens.find("L".repeat(255), now)).contains(longest);
    }
}
