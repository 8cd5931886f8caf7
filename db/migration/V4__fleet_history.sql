-- certfleet schema, version 4: what `certfleet report` and the admin views need to show the fleet over time.

-- Names by state and reason at one moment. Written at the end of every run (run --once, the nightly admission)
-- and at every housekeeping firing (every 15 min); housekeeping deletes samples older than its retention.
-- reason is NULL for names without a reason code (most pending and every issued name).
CREATE TABLE fleet_history (
    taken_at timestamptz NOT NULL,
    state    text        NOT NULL,
    reason   text,
    count    bigint      NOT NULL,
    CONSTRAINT fleet_history_count_ck CHECK (count >= 0)
);
CREATE UNIQUE INDEX fleet_history_sample_uq ON fleet_history (taken_at, state, coalesce(reason, ''));

-- One row per issuance run: kind 'once' (certfleet run --once; ended_at = the whole cycle ended) or 'nightly'
-- (the daemon's nightly job; ended_at = admission ended, its batches then advance with the pipeline-step job).
-- The run's figures are read from the tables it wrote (see ReportStore), not copied here.
CREATE TABLE issuance_run (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       text        NOT NULL,
    node       text        NOT NULL,
    started_at timestamptz NOT NULL,
    ended_at   timestamptz,
    CONSTRAINT issuance_run_kind_ck CHECK (kind IN ('once', 'nightly'))
);
CREATE INDEX issuance_run_started_idx ON issuance_run (started_at);

-- The CA limits the pipeline keeps to (configuration, not data), written by the daemon at start and by
-- run --once, so v_budget can show used against allowed. limit_name is the reason code without BUDGET_
-- (NEW_ORDERS, CERTIFICATES_PER_DOMAIN, ...). With several nodes the last one to start wins (recorded_by).
CREATE TABLE budget_limit (
    limit_name  text        NOT NULL,
    environment text        NOT NULL,
    limit_value bigint      NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    recorded_by text        NOT NULL,
    PRIMARY KEY (limit_name, environment),
    CONSTRAINT budget_limit_env_ck CHECK (environment IN ('staging', 'production')),
    CONSTRAINT budget_limit_value_ck CHECK (limit_value >= 0)
);

-- v_batch_tree walks from a staging batch to its production promotion (batch.rehearsal_id)
CREATE INDEX batch_rehearsal_idx ON batch (rehearsal_id);
