-- Key rotation (certfleet keys rotate, docs/operations.md "Rotate the encryption key"). One row per rotation:
-- which key replaced which (fingerprints, never keys), when, by which process, and how many secrets it
-- re-encrypted. A node started with a replaced key is told when it was replaced instead of just "wrong key".
CREATE TABLE secret_key_rotation (
    id                       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    old_fingerprint          text        NOT NULL,
    new_fingerprint          text        NOT NULL,
    accounts                 integer     NOT NULL,
    pending_certificate_keys integer     NOT NULL,
    certificates             integer     NOT NULL,
    rotated_by               text        NOT NULL,
    rotated_at               timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT secret_key_rotation_changes_ck CHECK (old_fingerprint <> new_fingerprint)
);
CREATE INDEX secret_key_rotation_old_idx ON secret_key_rotation (old_fingerprint);
