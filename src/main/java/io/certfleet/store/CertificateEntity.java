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
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

import java.time.Instant;

@Entity
@Table(name = "certificate")
class CertificateEntity {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    Long id;
    @Column(nullable = false)
    String environment;
    @ManyToOne(fetch = FetchType.LAZY)
    @JoinColumn(name = "batch_id")
    BatchEntity batch;
    @JdbcTypeCode(SqlTypes.ARRAY)
    @Column(nullable = false)
    String[] names;
    @Column(nullable = false)
    String serial;
    @Column(name = "not_before", nullable = false)
    Instant notBefore;
    @Column(name = "not_after", nullable = false)
    Instant notAfter;
    @Column(name = "chain_pem", nullable = false)
    String chainPem;
    @Column(name = "key_algorithm", nullable = false)
    String keyAlgorithm;
    // written only from the batch's fenced ciphertext and by KeyRotation: never update this entity through
    // Hibernate, whose full-row UPDATE would put back a ciphertext read before a key rotation
    @Column(name = "key_ciphertext", nullable = false)
    byte[] keyCiphertext;
    @Column(name = "certificate_url")
    String certificateUrl;
    @Column(name = "renew_at")
    Instant renewAt;
    @Column(name = "renew_basis")
    String renewBasis;
    @ManyToOne(fetch = FetchType.LAZY)
    @JoinColumn(name = "replaced_by_id")
    CertificateEntity replacedBy;
    @Column(name = "created_at", nullable = false)
    Instant createdAt;

    protected CertificateEntity() {
    }
}
