package io.certfleet.store;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import java.time.Instant;

@Entity
@Table(name = "http01_token")
class Http01TokenEntity {
    @Id
    String token;
    @Column(name = "key_authorization", nullable = false)
    String keyAuthorization;
    @Column(nullable = false)
    String identifier;
    @Column(nullable = false)
    String environment;
    @Column(name = "authz_url")
    String authzUrl;
    @Column(name = "expires_at", nullable = false)
    Instant expiresAt;
    @Column(name = "created_at", nullable = false)
    Instant createdAt;

    protected Http01TokenEntity() {
    }
}
