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
@Table(name = "precheck_result")
class PrecheckResultEntity {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    Long id;
    @ManyToOne(fetch = FetchType.LAZY)
    @JoinColumn(name = "run_id")
    PrecheckRunEntity run;
    @ManyToOne(fetch = FetchType.LAZY, optional = false)
    @JoinColumn(name = "domain_id", nullable = false)
    DomainEntity domain;
    @Column(nullable = false)
    String environment;
    @Column(nullable = false)
    String verdict;
    @Column(nullable = false)
    String reason;
    String level;
    String detail;
    @JdbcTypeCode(SqlTypes.JSON)
    String evidence;
    @Column(name = "elapsed_ms")
    Integer elapsedMs;
    @Column(name = "checked_at", nullable = false)
    Instant checkedAt;

    protected PrecheckResultEntity() {
    }
}
