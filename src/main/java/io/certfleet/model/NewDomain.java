package io.certfleet.model;

import java.util.Objects;
import java.util.Optional;

/** A validated name on its way into the database, with the text it came from and its customer key. */
public record NewDomain(DomainName name, String input, Optional<String> customer, Optional<String> registeredDomain) {
    public NewDomain {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(customer, "customer");
        Objects.requireNonNull(registeredDomain, "registeredDomain");
    }

    public NewDomain(DomainName name, String input, Optional<String> customer) {
        this(name, input, customer, Optional.empty());
    }
}
