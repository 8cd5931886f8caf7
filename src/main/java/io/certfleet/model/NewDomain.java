package io.certfleet.model;

import java.util.Objects;
import java.util.Optional;

/** A validated name on its way into the database, with the text it came from and its customer key. */
public record NewDomain(DomainName name, String input, Optional<String> customer) {
    public NewDomain {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(customer, "customer");
    }
}
