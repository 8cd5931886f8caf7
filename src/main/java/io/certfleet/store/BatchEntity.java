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
@Table(name = "batch")
class BatchEntity {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    Long id;
    @Column(nullable = false)
    String environment;
    @Column(nullable = false)
    String state;
    String customer;
    @ManyToOne(fetch = FetchType.LAZY)
    @JoinColumn(name = "parent_id")
    BatchEntity parent;
    @ManyToOne(fetch = FetchType.LAZY)
    @JoinColumn(name = "rehearsal_id")
    BatchEntity rehearsal;
    @ManyToOne(fetch = FetchType.LAZY)
    @JoinColumn(name = "account_id")
    AcmeAccountEntity account;
    @Column(name = "order_url")
    String orderUrl;
    @Column(name = "certificate_url")
    String certificateUrl;
    @Column(nullable = false)
    int attempts;
    @Column(name = "ca_failures", nullable = false)
    int caFailures;
    @Column(name = "not_before")
    Instant notBefore;
    @Column(name = "lease_owner")
    String leaseOwner;
    @Column(name = "lease_until")
    Instant leaseUntil;
    @Column(name = "error_type")
    String errorType;
    @Column(name = "error_detail")
    String errorDetail;
    // written only through the fenced writes (SecretKeys.requireCurrent) and by KeyRotation: never update this entity
    // through Hibernate, whose full-row UPDATE would put back a ciphertext read before a key rotation
    @Column(name = "cert_key_ciphertext")
    byte[] certKeyCiphertext;
    @Column(name = "cert_key_algorithm")
    String certKeyAlgorithm;
    @org.hibernate.annotations.JdbcTypeCode(org.hibernate.type.SqlTypes.ARRAY)
    @Column(name = "probe_ids")
    Long[] probeIds;
    @org.hibernate.annotations.JdbcTypeCode(org.hibernate.type.SqlTypes.ARRAY)
    @Column(name = "bisect_verified")
    Long[] bisectVerified;
    @org.hibernate.annotations.JdbcTypeCode(org.hibernate.type.SqlTypes.ARRAY)
    @Column(name = "bisect_suspects")
    Long[] bisectSuspects;
    @org.hibernate.annotations.JdbcTypeCode(org.hibernate.type.SqlTypes.ARRAY)
    @Column(name = "bisect_unknown")
    Long[] bisectUnknown;
    @Column(name = "created_at", nullable = false)
    Instant createdAt;
    @Column(name = "updated_at", nullable = false)
    Instant updatedAt;

    protected BatchEntity() {
    }
}
