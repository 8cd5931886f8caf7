package io.certfleet.store;

import jakarta.persistence.Column;
import jakarta.persistence.Embeddable;
import jakarta.persistence.EmbeddedId;
import jakarta.persistence.Entity;
import jakarta.persistence.Table;

import java.io.Serializable;

@Entity
@Table(name = "batch_member")
class BatchMemberEntity {
    @Embeddable
    record Key(@Column(name = "batch_id") long batchId, @Column(name = "domain_id") long domainId)
            implements Serializable {
    }

    @EmbeddedId
    Key key;
    @Column(nullable = false)
    boolean active;
    @Column(name = "authz_url")
    String authzUrl;
    @Column(nullable = false)
    boolean triggered;
    String outcome;
    @Column(name = "outcome_detail")
    String outcomeDetail;

    protected BatchMemberEntity() {
    }
}
