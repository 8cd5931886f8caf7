package io.certfleet.acme;

import io.certfleet.model.CaEnvironment;

/** Told about every HTTP exchange with a CA (for latency metrics). Must be fast and must not throw. */
@FunctionalInterface
public interface RequestListener {
    /**
     * @param kind   what was asked, from the URL path: {@code directory}, {@code nonce}, {@code order},
     *               {@code authorization}, {@code challenge}, {@code finalize}, {@code certificate}, {@code account}
     *               or {@code other}
     * @param status the HTTP status, or -1 when no answer came
     */
    void exchanged(CaEnvironment environment, String kind, int status, long nanos);

    RequestListener NONE = (e, k, s, n) -> {
    };
}
