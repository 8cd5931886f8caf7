-- V1's comment on domain.state said a degraded resolver makes a name held; it never did: the names a degraded
-- resolver could not check stay pending and are checked again 15 minutes later (pipeline.Admission). V1 has shipped,
-- so the corrected comment comes in here. Same text as model.DomainState's javadoc.
COMMENT ON COLUMN domain.state IS
    'pending: waits for pre-check/ordering (also while a degraded resolver leaves it unchecked; checked again in 15 min); '
    'held: waits for something not its fault until next_attempt_at (the CA''s limits or the budget, DNS-01 for a '
    'wildcard, an at-risk pre-check verdict while precheck.hold-at-risk is on); '
    'quarantined: blocked for its own fault (reason_code), re-checked at next_attempt_at; batched: in an open batch; '
    'issued: covered by a valid production certificate; removed: taken out by the operator';
