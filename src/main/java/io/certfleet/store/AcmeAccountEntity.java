package io.certfleet.store;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import java.time.Instant;

@Entity
@Table(name = "acme_account")
class AcmeAccountEntity {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    Long id;
    @Column(nullable = false)
    String environment;
    @Column(name = "directory_url", nullable = false)
    String directoryUrl;
    @Column(name = "account_url", nullable = false)
    String accountUrl;
    // written only through the fenced writes (SecretKeys.requireCurrent) and by KeyRotation: never update this entity
    // through Hibernate, whose full-row UPDATE would put back a ciphertext read before a key rotation
    @Column(name = "key_ciphertext", nullable = false)
    byte[] keyCiphertext;
    @Column(name = "created_at", nullable = false)
    Instant createdAt;

    protected AcmeAccountEntity() {
    }
}
