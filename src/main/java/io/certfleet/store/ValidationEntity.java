package io.certfleet.store;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.FetchType;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.JoinColumn;
import jakarta.persistence.ManyToOne;
import jakarta.persistence.Table;

import java.time.Instant;

@Entity
@Table(name = "validation")
class ValidationEntity {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    Long id;
    @ManyToOne(fetch = FetchType.LAZY, optional = false)
    @JoinColumn(name = "domain_id", nullable = false)
    DomainEntity domain;
    @Column(nullable = false)
    String environment;
    @ManyToOne(fetch = FetchType.LAZY, optional = false)
    @JoinColumn(name = "account_id", nullable = false)
    AcmeAccountEntity account;
    @Column(name = "challenge_type", nullable = false)
    String challengeType;
    @Column(name = "validated_at", nullable = false)
    Instant validatedAt;
    @Column(name = "authz_url", nullable = false)
    String authzUrl;
    @Column(name = "authz_expires")
    Instant authzExpires;
    @Column(name = "recorded_at", nullable = false)
    Instant recordedAt;

    protected ValidationEntity() {
    }
}
