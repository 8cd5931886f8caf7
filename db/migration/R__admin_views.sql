-- Admin views: the documented, stable SQL interface for operators (docs/admin-queries.md).
-- A repeatable migration: Flyway re-applies it whenever this file changes. Extend views by adding columns at the
-- end; never rename or drop a documented column.

DROP VIEW IF EXISTS v_limit_waits;
DROP VIEW IF EXISTS v_state_counts;
DROP VIEW IF EXISTS v_domain_status;

CREATE VIEW v_domain_status AS
SELECT d.id                       AS domain_id,
       d.identifier               AS name,
       d.customer,
       d.state,
       d.reason_code              AS reason,
       d.reason_detail            AS detail,
       pr.verdict                 AS precheck_verdict,
       pr.reason                  AS precheck_reason,
       pr.checked_at              AS precheck_at,
       vs.validated_at            AS staging_validated_at,
       vp.validated_at            AS production_validated_at,
       c.id                       AS certificate_id,
       c.not_after                AS certificate_not_after,
       d.next_attempt_at          AS next_attempt,
       d.attempts,
       d.input,
       d.created_at,
       d.updated_at,
       coalesce(fs.failures, 0)   AS failed_authorizations_in_a_row
FROM domain d
LEFT JOIN LATERAL (
    SELECT p.verdict, p.reason, p.checked_at
    FROM precheck_result p
    WHERE p.domain_id = d.id
    ORDER BY p.checked_at DESC, p.id DESC
    LIMIT 1) pr ON true
LEFT JOIN LATERAL (
    SELECT max(v.validated_at) AS validated_at
    FROM validation v
    WHERE v.domain_id = d.id AND v.environment = 'staging') vs ON true
LEFT JOIN LATERAL (
    SELECT max(v.validated_at) AS validated_at
    FROM validation v
    WHERE v.domain_id = d.id AND v.environment = 'production') vp ON true
LEFT JOIN LATERAL (
    SELECT cert.id, cert.not_after
    FROM certificate_name cn
    JOIN certificate cert ON cert.id = cn.certificate_id
    WHERE cn.domain_id = d.id AND cert.environment = 'production'
    ORDER BY cert.not_after DESC, cert.id DESC
    LIMIT 1) c ON true
LEFT JOIN LATERAL (
    SELECT max(f.failures) AS failures
    FROM authz_failure_streak f
    WHERE f.domain_id = d.id) fs ON true;

COMMENT ON VIEW v_domain_status IS 'One row per domain: state, reason, last pre-check, validation ages, certificate';

CREATE VIEW v_state_counts AS
SELECT s.state, count(d.id) AS count
FROM unnest(ARRAY['pending', 'held', 'quarantined', 'batched', 'issued', 'removed']) WITH ORDINALITY AS s(state, ord)
LEFT JOIN domain d ON d.state = s.state
GROUP BY s.state, s.ord
ORDER BY s.ord;

COMMENT ON VIEW v_state_counts IS 'Number of domains in each state, every state listed';

CREATE VIEW v_limit_waits AS
SELECT w.environment,
       w.ca_limit,
       w.scope,
       w.subject,
       w.not_before          AS until,
       w.detail,
       w.created_at,
       w.batch_id
FROM ca_limit_wait w
WHERE w.not_before > now();

COMMENT ON VIEW v_limit_waits IS 'The CA''s 429 answers that still hold their scope (account, registered domain, name)';
