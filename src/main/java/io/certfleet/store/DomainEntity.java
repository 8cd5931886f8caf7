package io.certfleet.store;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import org.hibernate.annotations.Generated;

import java.time.Instant;

@Entity
@Table(name = "domain")
class DomainEntity {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    Long id;
    @Column(nullable = false)
    String name;
    @Column(nullable = false)
    boolean wildcard;
    @Generated
    @Column(insertable = false, updatable = false)
    String identifier;
    @Column(nullable = false)
    String input;
    String customer;
    @Column(name = "registered_domain")
    String registeredDomain;
    @Column(nullable = false)
    String state;
    @Column(name = "reason_code")
    String reasonCode;
    @Column(name = "reason_detail")
    String reasonDetail;
    @Column(nullable = false)
    int attempts;
    @Column(name = "next_attempt_at")
    Instant nextAttemptAt;
    @Column(name = "created_at", nullable = false)
    Instant createdAt;
    @Column(name = "updated_at", nullable = false)
    Instant updatedAt;

    protected DomainEntity() {
    }
}
