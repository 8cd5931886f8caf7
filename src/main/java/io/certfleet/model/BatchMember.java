package io.certfleet.model;

import java.util.Optional;

/** A name in a batch, with where its authorization lives at the CA once the order exists. */
public record BatchMember(long domainId, String identifier, Optional<String> authzUrl, boolean triggered,
                          boolean validated) {
}
