package io.certfleet.caa;

import org.xbill.DNS.Message;

import java.util.Objects;
import java.util.Optional;

/**
 * One query's outcome at the transport level: a response, or a timeout after every try, or another I/O error.
 *
 * @param server   the server that answered or was tried last, {@code ip:port}
 * @param response the response, when one came back
 * @param timedOut true when every try timed out
 * @param error    the transport error other than a timeout
 * @param tries    how many tries were made
 */
record Exchange(String server, Optional<Message> response, boolean timedOut, Optional<Throwable> error, int tries) {
    Exchange {
        Objects.requireNonNull(server);
        Objects.requireNonNull(response);
        Objects.requireNonNull(error);
    }
}
