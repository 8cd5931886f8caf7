-- certfleet schema, version 3: Let's Encrypt's limits in the local ledger (docs/pipeline.md, "Let's Encrypt's
-- limits"): the CA's 429 waits per scope, consecutive failed authorizations per (account, name), and ARI
-- `replaces` on renewal orders. Append-only once landed.

-- A 429 from the CA with a Retry-After: nothing in the scope is ordered at that environment before not_before.
-- scope 'account': the account's new orders (subject ''); 'registered_domain': every name of that registered
-- domain (subject = the registered domain); 'name': that identifier (subject = the identifier).
CREATE TABLE ca_limit_wait (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    environment text        NOT NULL,
    account_id  bigint      REFERENCES acme_account (id) ON DELETE CASCADE,
    ca_limit    text        NOT NULL,
    scope       text        NOT NULL,
    subject     text        NOT NULL,
    not_before  timestamptz NOT NULL,
    detail      text,
    batch_id    bigint      REFERENCES batch (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ca_limit_wait_env_ck CHECK (environment IN ('staging', 'production')),
    CONSTRAINT ca_limit_wait_limit_ck CHECK (ca_limit IN
        ('new_orders', 'certificates_per_domain', 'exact_set', 'failed_authorizations')),
    CONSTRAINT ca_limit_wait_scope_ck CHECK (scope IN ('account', 'registered_domain', 'name')),
    CONSTRAINT ca_limit_wait_uq UNIQUE (environment, ca_limit, scope, subject)
);
CREATE INDEX ca_limit_wait_not_before_idx ON ca_limit_wait (not_before);

COMMENT ON TABLE ca_limit_wait IS
    'The CA''s 429 answers with a Retry-After, per scope: nothing in the scope is ordered before not_before';

-- Consecutive failed authorizations of a name for one account; reset by a valid authorization or by an operator's
-- release. At budget.pause-guard-failures the name stops (quarantined, PAUSE_GUARD, no next attempt).
CREATE TABLE authz_failure_streak (
    domain_id      bigint      NOT NULL REFERENCES domain (id) ON DELETE CASCADE,
    environment    text        NOT NULL,
    account_id     bigint      NOT NULL REFERENCES acme_account (id) ON DELETE CASCADE,
    failures       integer     NOT NULL,
    first_failed_at timestamptz NOT NULL,
    last_failed_at timestamptz NOT NULL,
    last_detail    text,
    PRIMARY KEY (domain_id, environment, account_id),
    CONSTRAINT authz_failure_streak_env_ck CHECK (environment IN ('staging', 'production')),
    CONSTRAINT authz_failure_streak_failures_ck CHECK (failures > 0)
);

-- Whether the directory offered ARI (renewalInfo) when certfleet last connected; plan reads it without the CA.
ALTER TABLE acme_account ADD COLUMN renewal_info boolean NOT NULL DEFAULT false;

-- The CA's ARI window of a certificate (when the CA offered ARI) and its ARI CertID (RFC 9773 §4.1).
ALTER TABLE certificate ADD COLUMN ari_window_start timestamptz;
ALTER TABLE certificate ADD COLUMN ari_window_end timestamptz;
ALTER TABLE certificate ADD COLUMN ari_cert_id text;

-- A production renewal order carries ARI `replaces` for this certificate (stored before the order is placed);
-- replaces_refused: the CA refused it (alreadyReplaced), so the batch orders without it.
ALTER TABLE batch ADD COLUMN replaces_certificate_id bigint REFERENCES certificate (id);
ALTER TABLE batch ADD COLUMN replaces_refused boolean NOT NULL DEFAULT false;
CREATE INDEX batch_replaces_idx ON batch (replaces_certificate_id) WHERE replaces_certificate_id IS NOT NULL;

-- A new order that carried ARI `replaces` (the CertID), and whether it was exempt from the CA's limits (it was
-- placed inside the replaced certificate's ARI window): exempt orders spend no new-order budget.
ALTER TABLE ca_event ADD COLUMN replaces text;
ALTER TABLE ca_event ADD COLUMN limits_exempt boolean NOT NULL DEFAULT false;

COMMENT ON COLUMN batch.state IS
    'planned: no order yet; ordered: order created at order_url; authorizing: challenges triggered; finalizing: CSR sent; '
    'cleared: staging rehearsal succeeded and was promoted; issued: production certificate stored; '
    'failed: names blamed and removed; split: bisected (children are its probes); superseded: a bisection probe '
    'that cleared but whose names went on in a larger set; abandoned: given up (attempt limit), or every name was '
    'taken out before the order for a limit (error_type says which). '
    'A batch waiting for the CA or a budget window keeps its state and sets not_before';
