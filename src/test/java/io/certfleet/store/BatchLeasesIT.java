package io.certfleet.store;

import io.certfleet.model.BatchTransition;
import io.certfleet.model.CaEnvironment;
import io.certfleet.model.DomainName;
import io.certfleet.model.InvalidDomainNameException;
import io.certfleet.model.NewDomain;
import io.certfleet.testsupport.TestDatabase;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Batch leases on the real PostgreSQL: a lease keeps other nodes off a batch, and a lease its own node failed to
 * release (the database was away when the step ended) is freed by that node between its steps instead of blocking
 * the batch until it expires.
 */
class BatchLeasesIT {
    private static final Duration LEASE = Duration.ofMinutes(2);
    private static final String NODE_A = "host-a:101";
    private static final String NODE_B = "host-b:202";

    private final TestDatabase db = TestDatabase.get();
    private final BatchStore batches = new BatchStore(db.store);
    private final List<Long> ids = new ArrayList<>();

    @BeforeEach
    void setUp() throws SQLException, InvalidDomainNameException {
        db.clean();
        DomainStore domains = new DomainStore(db.store);
        List<NewDomain> names = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String n = "n" + i + ".lease.example";
            names.add(new NewDomain(DomainName.parse(n), n, Optional.empty()));
        }
        domains.insertNew(names);
        for (int i = 0; i < 3; i++) {
            long domainId = scalar("SELECT id FROM domain WHERE identifier = 'n" + i + ".lease.example'");
            ids.add(batches.create(new BatchTransition.NewBatch(CaEnvironment.STAGING, Optional.empty(),
                    Optional.empty(), Optional.empty(), List.of(domainId), List.of(), Optional.empty(), 0)));
        }
    }

    @Test
    void aLeaseKeepsOtherNodesOffUntilItIsReleasedOrExpires() {
        Instant now = Instant.now();
        assertThat(batches.claimDue(now, NODE_A, LEASE, 2)).hasSize(2);
        List<Long> forB = batches.claimDue(now, NODE_B, LEASE, 10);
        assertThat(forB).hasSize(1); // only the batch A did not take
        assertThat(batches.claimDue(now, NODE_B, LEASE, 10)).isEmpty();
        // after the lease has run out, anyone may take A's batches
        assertThat(batches.claimDue(now.plus(LEASE).plusSeconds(1), NODE_B, LEASE, 10)).hasSize(3);
    }

    @Test
    void aNodeFreesItsOwnLeftoverLeasesAndNobodyElses() throws SQLException {
        Instant now = Instant.now();
        List<Long> a = batches.claimDue(now, NODE_A, LEASE, 2);
        List<Long> b = batches.claimDue(now, NODE_B, LEASE, 10);
        // A's steps ended but their releases failed: A itself cannot step the batches again until the lease ends
        assertThat(batches.claimDue(now, NODE_A, LEASE, 10)).isEmpty();

        assertThat(batches.releaseLeasesOf(NODE_A::equals)).isEqualTo(2);

        assertThat(batches.claimDue(now, NODE_A, LEASE, 10)).containsExactlyInAnyOrderElementsOf(a);
        assertThat(scalar("SELECT count(*) FROM batch WHERE lease_owner = '" + NODE_B + "' AND id = " + b.get(0)))
                .isEqualTo(1);
        assertThat(batches.releaseLeasesOf(NODE_A::equals)).isEqualTo(2);
        assertThat(batches.releaseLeasesOf(owner -> false)).isZero();
    }

    @Test
    void releaseFreesOnlyTheOwnersLease() throws SQLException {
        Instant now = Instant.now();
        long id = batches.claimDue(now, NODE_A, LEASE, 1).get(0);
        batches.release(id, NODE_B); // not B's lease: nothing changes
        assertThat(scalar("SELECT count(*) FROM batch WHERE lease_owner IS NOT NULL")).isEqualTo(1);
        batches.release(id, NODE_A);
        assertThat(scalar("SELECT count(*) FROM batch WHERE lease_owner IS NOT NULL")).isZero();
    }

    private long scalar(String sql) throws SQLException {
        try (Connection c = db.database.dataSource().getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
