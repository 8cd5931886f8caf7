-- certfleet core schema, version 1.
-- Flyway owns the schema; Hibernate only validates its mapping against it. Append-only once landed:
-- change it with a new V<n>__ migration. Every timestamp is timestamptz (UTC instants).

-- One row per identifier a customer wants covered.
CREATE TABLE domain (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- normalised name: IDNA A-labels, lower case, no trailing dot, without the '*.' of a wildcard
    name            text        NOT NULL,
    wildcard        boolean     NOT NULL DEFAULT false,
    -- what the CA sees: '*.' || name for a wildcard; unique across the table
    identifier      text        GENERATED ALWAYS AS (CASE WHEN wildcard THEN '*.' || name ELSE name END) STORED,
    input           text        NOT NULL,
    customer        text,
    -- the registered domain (Public Suffix List eTLD+1) Let's Encrypt counts certificates under
    registered_domain text,
    state           text        NOT NULL DEFAULT 'pending',
    reason_code     text,
    reason_detail   text,
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT domain_identifier_uq UNIQUE (identifier),
    CONSTRAINT domain_state_ck CHECK (state IN
        ('pending', 'held', 'quarantined', 'batched', 'issued', 'removed')),
    CONSTRAINT domain_name_ck CHECK (name = lower(name) AND name !~ '\.$' AND length(name) BETWEEN 1 AND 253),
    CONSTRAINT domain_attempts_ck CHECK (attempts >= 0)
);
CREATE INDEX domain_state_next_idx ON domain (state, next_attempt_at);
CREATE INDEX domain_customer_idx ON domain (customer);
CREATE INDEX domain_registered_domain_idx ON domain (registered_domain);

COMMENT ON COLUMN domain.state IS
    'pending: waits for pre-check/ordering; held: waits for something not its fault (budget, DNS-01, degraded resolver); '
    'quarantined: blocked for its own fault (reason_code), re-checked at next_attempt_at; batched: in an open batch; '
    'issued: covered by a valid production certificate; removed: taken out by the operator';

-- One CAA pre-check run (all names checked together) and its health.
CREATE TABLE precheck_run (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    environment     text        NOT NULL,
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    resolvers       text,
    names_total     integer     NOT NULL DEFAULT 0,
    degraded        boolean     NOT NULL DEFAULT false,
    degraded_reason text,
    CONSTRAINT precheck_run_env_ck CHECK (environment IN ('staging', 'production'))
);

-- One verdict per name per run.
CREATE TABLE precheck_result (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id       bigint      REFERENCES precheck_run (id) ON DELETE CASCADE,
    domain_id    bigint      NOT NULL REFERENCES domain (id) ON DELETE CASCADE,
    environment  text        NOT NULL,
    verdict      text        NOT NULL,
    reason       text        NOT NULL,
    level        text,
    detail       text,
    evidence     jsonb,
    elapsed_ms   integer,
    checked_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT precheck_result_verdict_ck CHECK (verdict IN ('allowed', 'blocked', 'at-risk')),
    CONSTRAINT precheck_result_env_ck CHECK (environment IN ('staging', 'production'))
);
CREATE INDEX precheck_result_domain_idx ON precheck_result (domain_id, checked_at DESC);

-- An ACME account per environment and directory. The private key is AES-GCM encrypted (see docs/operations.md).
CREATE TABLE acme_account (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    environment    text        NOT NULL,
    directory_url  text        NOT NULL,
    account_url    text        NOT NULL,
    key_ciphertext bytea       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT acme_account_env_ck CHECK (environment IN ('staging', 'production')),
    CONSTRAINT acme_account_dir_uq UNIQUE (environment, directory_url),
    CONSTRAINT acme_account_url_uq UNIQUE (account_url)
);

-- An order at the CA (or one planned). Staging rehearsals and production promotions alike; bisection children
-- point at their parent, a production batch at the staging batch that cleared it.
CREATE TABLE batch (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    environment     text        NOT NULL,
    state           text        NOT NULL DEFAULT 'planned',
    customer        text,
    parent_id       bigint      REFERENCES batch (id),
    rehearsal_id    bigint      REFERENCES batch (id),
    account_id      bigint      REFERENCES acme_account (id),
    order_url       text,
    certificate_url text,
    -- attempts: re-orders after names were blamed (generations); ca_failures: CA-side failures in a row,
    -- reset by every step that gets an answer
    attempts        integer     NOT NULL DEFAULT 0,
    ca_failures     integer     NOT NULL DEFAULT 0,
    not_before      timestamptz,
    lease_owner     text,
    lease_until     timestamptz,
    error_type      text,
    error_detail    text,
    -- production: the certificate key, AES-GCM encrypted, stored before finalize so a crash loses nothing
    cert_key_ciphertext bytea,
    cert_key_algorithm  text,
    -- bisection (see docs/architecture.md): on a probe, the suspect domain ids it tests; on a split batch, the
    -- search state: verified-clean, suspects (holding at least one culprit) and untested domain ids
    probe_ids       bigint[],
    bisect_verified bigint[],
    bisect_suspects bigint[],
    bisect_unknown  bigint[],
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT batch_env_ck CHECK (environment IN ('staging', 'production')),
    CONSTRAINT batch_state_ck CHECK (state IN
        ('planned', 'ordered', 'authorizing', 'finalizing', 'cleared', 'issued', 'failed', 'split', 'superseded',
         'abandoned')),
    CONSTRAINT batch_order_url_uq UNIQUE (order_url)
);
CREATE INDEX batch_state_idx ON batch (state, not_before);
CREATE INDEX batch_parent_idx ON batch (parent_id);

COMMENT ON COLUMN batch.state IS
    'planned: no order yet; ordered: order created at order_url; authorizing: challenges triggered; finalizing: CSR sent; '
    'cleared: staging rehearsal succeeded and was promoted; issued: production certificate stored; '
    'failed: names blamed and removed; split: bisected (children are its probes); superseded: a bisection probe '
    'that cleared but whose names went on in a larger set; abandoned: given up (attempt limit). '
    'A batch waiting for the CA keeps its state and sets not_before';

-- The names of a batch. A name is in at most one open batch (active = true), enforced below.
CREATE TABLE batch_member (
    batch_id       bigint      NOT NULL REFERENCES batch (id) ON DELETE CASCADE,
    domain_id      bigint      NOT NULL REFERENCES domain (id),
    active         boolean     NOT NULL DEFAULT true,
    authz_url      text,
    triggered      boolean     NOT NULL DEFAULT false,
    outcome        text,
    outcome_detail text,
    PRIMARY KEY (batch_id, domain_id)
);
CREATE UNIQUE INDEX batch_member_one_open_batch_uq ON batch_member (domain_id) WHERE active;

-- How fresh each name's authorization is, per environment and account (latest only).
CREATE TABLE validation (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain_id      bigint      NOT NULL REFERENCES domain (id) ON DELETE CASCADE,
    environment    text        NOT NULL,
    account_id     bigint      NOT NULL REFERENCES acme_account (id),
    challenge_type text        NOT NULL DEFAULT 'http-01',
    validated_at   timestamptz NOT NULL,
    authz_url      text        NOT NULL,
    authz_expires  timestamptz,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT validation_env_ck CHECK (environment IN ('staging', 'production')),
    CONSTRAINT validation_domain_account_uq UNIQUE (domain_id, environment, account_id)
);

-- Issued certificates. The private key is AES-GCM encrypted.
CREATE TABLE certificate (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    environment     text        NOT NULL,
    batch_id        bigint      REFERENCES batch (id),
    names           text[]      NOT NULL,
    serial          text        NOT NULL,
    not_before      timestamptz NOT NULL,
    not_after       timestamptz NOT NULL,
    chain_pem       text        NOT NULL,
    key_algorithm   text        NOT NULL,
    key_ciphertext  bytea       NOT NULL,
    certificate_url text,
    -- when to renew: a random time in the CA's ARI window, else around 2/3 of the lifetime
    renew_at        timestamptz,
    renew_basis     text,
    replaced_by_id  bigint      REFERENCES certificate (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT certificate_env_ck CHECK (environment IN ('staging', 'production')),
    CONSTRAINT certificate_serial_uq UNIQUE (environment, serial),
    CONSTRAINT certificate_validity_ck CHECK (not_after > not_before)
);
CREATE INDEX certificate_not_after_idx ON certificate (not_after);
CREATE INDEX certificate_renew_idx ON certificate (renew_at) WHERE replaced_by_id IS NULL;

CREATE TABLE certificate_name (
    certificate_id bigint NOT NULL REFERENCES certificate (id) ON DELETE CASCADE,
    domain_id      bigint NOT NULL REFERENCES domain (id),
    PRIMARY KEY (certificate_id, domain_id)
);
CREATE INDEX certificate_name_domain_idx ON certificate_name (domain_id);

-- HTTP-01 key authorizations the responder serves; any node of a cluster answers from here.
CREATE TABLE http01_token (
    token             text        PRIMARY KEY,
    key_authorization text        NOT NULL,
    identifier        text        NOT NULL,
    environment       text        NOT NULL,
    authz_url         text,
    expires_at        timestamptz NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT http01_token_env_ck CHECK (environment IN ('staging', 'production')),
    CONSTRAINT http01_token_token_ck CHECK (token ~ '^[A-Za-z0-9_-]{1,255}$')
);
CREATE INDEX http01_token_expires_idx ON http01_token (expires_at);

-- Every ACME request's outcome, for the local rate-limit ledger and for operators.
CREATE TABLE ca_event (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    environment  text        NOT NULL,
    account_id   bigint      REFERENCES acme_account (id),
    batch_id     bigint      REFERENCES batch (id),
    request      text        NOT NULL,
    outcome      text        NOT NULL,
    http_status  integer,
    problem_type text,
    detail       text,
    identifiers  text[],
    retry_after  timestamptz,
    CONSTRAINT ca_event_env_ck CHECK (environment IN ('staging', 'production'))
);
CREATE INDEX ca_event_env_request_idx ON ca_event (environment, request, occurred_at);

-- Fingerprint of the secrets encryption key, so a wrong key fails at start instead of corrupting data.
CREATE TABLE secret_key_check (
    key_id      text        PRIMARY KEY,
    fingerprint text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
