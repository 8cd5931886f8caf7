-- Admin views: the documented, stable SQL interface for operators (docs/admin-queries.md).
-- A repeatable migration: Flyway re-applies it whenever this file changes. Extend views by adding columns at the
-- end; never rename or drop a documented column.

DROP VIEW IF EXISTS v_limit_waits;
DROP VIEW IF EXISTS v_paused_names;
DROP VIEW IF EXISTS v_budget;
DROP VIEW IF EXISTS v_certificates_expiring;
DROP VIEW IF EXISTS v_validation_age;
DROP VIEW IF EXISTS v_batch_tree;
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

-- A batch's tree: bisection probes and re-orders hang under their parent (parent_id), a production promotion under
-- the staging batch that cleared it (rehearsal_id). Roots are batches with neither. The walk runs per root inside a
-- LATERAL subquery, so a filter on root_id (the root's primary key) walks one tree only.
CREATE VIEW v_batch_tree AS
SELECT t.id                           AS batch_id,
       coalesce(b.parent_id, b.rehearsal_id) AS parent_id,
       r.id                           AS root_id,
       t.depth,
       t.path,
       t.edge,
       b.environment,
       b.state,
       b.customer,
       (SELECT count(*) FROM batch_member m WHERE m.batch_id = b.id) AS names,
       coalesce(cardinality(b.probe_ids), 0) AS probed,
       b.attempts,
       b.order_url,
       b.error_type                   AS error,
       b.error_detail,
       b.not_before,
       b.created_at,
       b.updated_at
FROM batch r
CROSS JOIN LATERAL (
    WITH RECURSIVE tree AS (
        SELECT r.id, 0 AS depth, ARRAY[r.id] AS path, 'root'::text AS edge
        UNION ALL
        SELECT c.id, t.depth + 1, t.path || c.id,
               CASE WHEN c.parent_id IS NULL THEN 'promotion'
                    WHEN cardinality(c.probe_ids) > 0 THEN 'probe'
                    ELSE 'reorder' END
        FROM tree t
        JOIN batch c ON c.parent_id = t.id OR (c.parent_id IS NULL AND c.rehearsal_id = t.id)
        WHERE c.id <> ALL (t.path))
    SELECT tree.id, tree.depth, tree.path, tree.edge FROM tree) t
JOIN batch b ON b.id = t.id
WHERE r.parent_id IS NULL AND r.rehearsal_id IS NULL;

COMMENT ON VIEW v_batch_tree IS 'Every batch with its tree: root, parent, depth, path from the root, and how it hangs';

-- How old each name's authorization is, per environment and ACME account (validation keeps the latest only).
CREATE VIEW v_validation_age AS
SELECT v.domain_id,
       d.identifier                   AS name,
       v.environment,
       v.account_id,
       a.account_url,
       v.challenge_type,
       v.validated_at,
       now() - v.validated_at         AS age,
       v.authz_expires,
       v.authz_expires > now()        AS reusable,
       v.authz_url,
       v.recorded_at
FROM validation v
JOIN domain d ON d.id = v.domain_id
JOIN acme_account a ON a.id = v.account_id;

COMMENT ON VIEW v_validation_age IS 'Per name, environment and account: when the CA last validated it and when that authorization expires';

-- Production certificates that nothing has replaced yet (a negative days_left: expired without a replacement).
CREATE VIEW v_certificates_expiring AS
SELECT c.id                           AS certificate_id,
       c.serial,
       b.customer,
       cardinality(c.names)           AS names,
       c.names[1]                     AS first_name,
       c.not_before,
       c.not_after,
       floor(extract(epoch FROM c.not_after - now()) / 86400)::integer AS days_left,
       c.renew_at,
       c.renew_basis,
       c.batch_id,
       c.created_at
FROM certificate c
LEFT JOIN batch b ON b.id = c.batch_id
WHERE c.environment = 'production' AND c.replaced_by_id IS NULL;

COMMENT ON VIEW v_certificates_expiring IS 'Production certificates not yet replaced: expiry, days left, names, renewal time';

-- Budget use per CA limit and scope, counted exactly as admission counts it (store/LedgerStore.java). One
-- UNION ALL branch per limit, all with the same columns; limit_value comes from budget_limit (NULL until a daemon
-- or run --once of this version started). window_end: when the oldest counted use leaves the window. Windows are
-- written in hours: the ledger counts exact durations, and '7 days' in a session time zone with DST is not 168 h.
CREATE VIEW v_budget AS
SELECT 'NEW_ORDERS'::text             AS limit_name,
       a.environment,
       'account'::text                AS scope_type,
       a.account_url                  AS scope,
       coalesce(u.used, 0)            AS used,
       l.limit_value,
       l.limit_value - coalesce(u.used, 0) AS remaining,
       interval '3 hours'             AS window_length,
       u.oldest + interval '3 hours'  AS window_end,
       l.recorded_at                  AS limit_recorded_at
FROM acme_account a
LEFT JOIN LATERAL (
    SELECT count(*) AS used, min(e.occurred_at) AS oldest
    FROM ca_event e
    WHERE e.environment = a.environment AND e.account_id = a.id AND e.request = 'NEW_ORDER' AND e.outcome = 'ok'
      AND NOT e.limits_exempt AND e.occurred_at > now() - interval '3 hours') u ON true
LEFT JOIN budget_limit l ON l.limit_name = 'NEW_ORDERS' AND l.environment = a.environment
UNION ALL
SELECT 'CERTIFICATES_PER_DOMAIN',
       'production',
       'registered_domain',
       u.registered_domain,
       u.used,
       l.limit_value,
       l.limit_value - u.used,
       interval '168 hours',
       u.oldest + interval '168 hours',
       l.recorded_at
FROM (
    SELECT d.registered_domain, count(DISTINCT x.id) AS used, min(x.created_at) AS oldest
    FROM certificate x
    JOIN certificate_name cn ON cn.certificate_id = x.id
    JOIN domain d ON d.id = cn.domain_id
    WHERE x.environment = 'production' AND x.created_at > now() - interval '168 hours'
    GROUP BY d.registered_domain) u
LEFT JOIN budget_limit l ON l.limit_name = 'CERTIFICATES_PER_DOMAIN' AND l.environment = 'production'
UNION ALL
SELECT 'EXACT_SET',
       'production',
       'exact_set',
       u.set_key,
       u.used,
       l.limit_value,
       l.limit_value - u.used,
       interval '168 hours',
       u.oldest + interval '168 hours',
       l.recorded_at
FROM (
    SELECT (SELECT string_agg(n, ',' ORDER BY n COLLATE "C") FROM unnest(x.names) n) AS set_key,
           count(*) AS used, min(x.created_at) AS oldest
    FROM certificate x
    WHERE x.environment = 'production' AND x.created_at > now() - interval '168 hours'
    GROUP BY 1) u
LEFT JOIN budget_limit l ON l.limit_name = 'EXACT_SET' AND l.environment = 'production'
UNION ALL
SELECT 'FAILED_AUTHORIZATIONS',
       u.environment,
       'name',
       u.name,
       u.used,
       l.limit_value,
       l.limit_value - u.used,
       interval '1 hour',
       u.oldest + interval '1 hour',
       l.recorded_at
FROM (
    SELECT e.environment, i AS name, count(*) AS used, min(e.occurred_at) AS oldest
    FROM ca_event e CROSS JOIN LATERAL unnest(e.identifiers) i
    WHERE e.request = 'AUTHORIZATION' AND e.outcome = 'invalid' AND e.occurred_at > now() - interval '1 hour'
    GROUP BY 1, 2) u
LEFT JOIN budget_limit l ON l.limit_name = 'FAILED_AUTHORIZATIONS' AND l.environment = u.environment;

COMMENT ON VIEW v_budget IS 'Per CA limit and scope (account, registered domain, exact set, name): used in the window, limit, remaining, window end';

-- Names Let's Encrypt paused on our account (pipeline/Isolator.java writes the reason and the detail it parses).
CREATE VIEW v_paused_names AS
SELECT d.id                           AS domain_id,
       d.identifier                   AS name,
       d.customer,
       d.state,
       a.environment,
       substring(d.reason_detail FROM 'on account (\S+);') AS account_url,
       substring(d.reason_detail FROM 'unpause it at (https?://[^[:space:],]+)') AS unpause_url,
       d.updated_at                   AS paused_at,
       d.next_attempt_at              AS next_attempt,
       d.reason_detail                AS detail
FROM domain d
LEFT JOIN acme_account a ON a.account_url = substring(d.reason_detail FROM 'on account (\S+);')
WHERE d.reason_code = 'CA_PAUSED';

COMMENT ON VIEW v_paused_names IS 'Names paused by Let''s Encrypt on our account, with the URL an operator unpauses them at';

-- The CA's 429 answers still in force, per scope (store/LimitStore.java writes them).
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
