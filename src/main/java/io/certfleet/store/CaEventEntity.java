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
@Table(name = "ca_event")
class CaEventEntity {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    Long id;
    @Column(name = "occurred_at", nullable = false)
    Instant occurredAt;
    @Column(nullable = false)
    String environment;
    @ManyToOne(fetch = FetchType.LAZY)
    @JoinColumn(name = "account_id")
    AcmeAccountEntity account;
    @ManyToOne(fetch = FetchType.LAZY)
    @JoinColumn(name = "batch_id")
    BatchEntity batch;
    @Column(nullable = false)
    String request;
    @Column(nullable = false)
    String outcome;
    @Column(name = "http_status")
    Integer httpStatus;
    @Column(name = "problem_type")
    String problemType;
    String detail;
    @JdbcTypeCode(SqlTypes.ARRAY)
    String[] identifiers;
    @Column(name = "retry_after")
    Instant retryAfter;

    protected CaEventEntity() {
    }
}
