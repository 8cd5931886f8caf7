package io.certfleet.store;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import java.time.Instant;

@Entity
@Table(name = "precheck_run")
class PrecheckRunEntity {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    Long id;
    @Column(nullable = false)
    String environment;
    @Column(name = "started_at", nullable = false)
    Instant startedAt;
    @Column(name = "finished_at")
    Instant finishedAt;
    String resolvers;
    @Column(name = "names_total", nullable = false)
    int namesTotal;
    @Column(nullable = false)
    boolean degraded;
    @Column(name = "degraded_reason")
    String degradedReason;

    protected PrecheckRunEntity() {
    }
}
