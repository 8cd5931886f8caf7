package io.certfleet.store;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import java.time.Instant;

@Entity
@Table(name = "secret_key_check")
class SecretKeyCheckEntity {
    @Id
    @Column(name = "key_id")
    String keyId;
    @Column(nullable = false)
    String fingerprint;
    @Column(name = "created_at", nullable = false)
    Instant createdAt;

    protected SecretKeyCheckEntity() {
    }
}
