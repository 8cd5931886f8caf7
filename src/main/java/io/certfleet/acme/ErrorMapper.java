package io.certfleet.acme;

import io.certfleet.model.Blame;
import io.certfleet.model.CaEnvironment;
import io.certfleet.model.CaProblem;
import java.net.URI;
import java.net.URL;
import java.time.Clock;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.shredzone.acme4j.Problem;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.exception.AcmeLazyLoadingException;
import org.shredzone.acme4j.exception.AcmeNetworkException;
import org.shredzone.acme4j.exception.AcmeProtocolException;
import org.shredzone.acme4j.exception.AcmeRateLimitedException;
import org.shredzone.acme4j.exception.AcmeServerException;

/** Maps acme4j's exceptions to certfleet's {@link CaException} taxonomy. */
final class ErrorMapper {

    /** Problem types that are the CA's trouble, not the names': retry the same step later. */
    private static final Set<String> CA_FAULT = Set.of("serverInternal", "badNonce");

    /**
     * Problem types that say our request or state is wrong, not the names: no retry and no bisection helps.
     * Everything else seen at new-order or finalize is a rejection of (some of) the names.
     */
    private static final Set<String> OUR_FAULT = Set.of("orderNotReady", "accountDoesNotExist", "badSignatureAlgorithm",
            "badPublicKey", "userActionRequired", "externalAccountRequired", "badRevocationReason", "alreadyRevoked",
            "invalidContact", "unsupportedContact", "badCSR", "alreadyReplaced", "invalidProfile", "conflict");

    private static final Pattern HTTP_STATUS = Pattern.compile("^HTTP (\\d{3})\\b");

    private final CaEnvironment environment;
    private final Clock clock;

    ErrorMapper(CaEnvironment environment, Clock clock) {
        this.environment = environment;
        this.clock = clock;
    }

    CaException map(Exception e, CaRequest request, Optional<URL> url, Collection<String> orderNames) {
        Throwable t = e;
        if (t instanceof AcmeLazyLoadingException && t.getCause() instanceof AcmeException inner) {
            t = inner;
        }
        Optional<ObservingHttpClient.LastResponse> last = ObservingHttpClient.last();
        int status = last.map(ObservingHttpClient.LastResponse::status).orElse(0);
        Optional<Instant> headerRetryAfter = last.flatMap(ObservingHttpClient.LastResponse::retryAfter)
                .flatMap(this::parseRetryAfter);
        if (t instanceof AcmeServerException se) {
            return mapProblem(se, request, url, orderNames, status, headerRetryAfter);
        }
        if (t instanceof AcmeNetworkException) {
            return new CaUnavailableException(environment, request, url, Optional.empty(), 0, Optional.empty(),
                    "network failure: " + rootMessage(t), t);
        }
        if (t instanceof AcmeProtocolException) {
            return new CaUnavailableException(environment, request, url, Optional.empty(), status, headerRetryAfter,
                    "the CA's answer is not ACME: " + t.getMessage(), t);
        }
        String message = String.valueOf(t.getMessage());
        Matcher m = HTTP_STATUS.matcher(message);
        if (m.find()) {
            int code = Integer.parseInt(m.group(1));
            if (code >= 500 || code == 429 || code == 408) {
                return new CaUnavailableException(environment, request, url, Optional.empty(), code,
                        headerRetryAfter, message, t);
            }
        }
        return new CaException(environment, request, url, Optional.empty(), message, t);
    }

    private CaException mapProblem(AcmeServerException se, CaRequest request, Optional<URL> url,
            Collection<String> orderNames, int status, Optional<Instant> headerRetryAfter) {
        CaProblem problem = toCaProblem(se.getProblem());
        String type = problem.shortType();
        boolean paused = ProblemAttribution.isPaused(problem.detail());
        if (se instanceof AcmeRateLimitedException || type.equals("rateLimited") || paused) {
            Optional<Instant> retryAfter = (se instanceof AcmeRateLimitedException rl
                    ? rl.getRetryAfter().or(() -> headerRetryAfter) : headerRetryAfter)
                    .or(() -> ProblemAttribution.retryAfterInDetail(problem.detail()));
            Optional<URI> unpause = ProblemAttribution.unpauseUrl(problem.detail()).flatMap(ErrorMapper::uri);
            Set<String> scopeNames = new LinkedHashSet<>(ProblemAttribution.namesInDetail(problem.detail()));
            return new CaRateLimitedException(environment, request, url, problem,
                    paused ? Optional.empty() : retryAfter, paused, unpause, scopeNames,
                    ProblemAttribution.attribute(problem, orderNames), se);
        }
        if (CA_FAULT.contains(type) || status >= 500) {
            return new CaUnavailableException(environment, request, url, Optional.of(problem), status,
                    headerRetryAfter, problem.toString(), se);
        }
        if (request == CaRequest.NEW_ORDER) {
            // the order holds more names than the CA allows: our packing's fault, never the names'
            var limit = ProblemAttribution.identifierLimit(problem.detail());
            if (limit.isPresent()) {
                return new CaOrderTooLargeException(environment, request, url, problem, limit.getAsInt(),
                        orderNames.size(), se);
            }
        }
        Blame blame = ProblemAttribution.attribute(problem, orderNames);
        boolean namesAtStake = request == CaRequest.NEW_ORDER || request == CaRequest.FINALIZE;
        if (!blame.namesNobody() || (namesAtStake && !OUR_FAULT.contains(type))) {
            return new CaRejectedException(environment, request, url, problem, blame, se);
        }
        return new CaException(environment, request, url, Optional.of(problem), problem.toString(), se);
    }

    static CaProblem toCaProblem(Problem p) {
        List<CaProblem> subs = new ArrayList<>();
        for (Problem sub : p.getSubProblems()) {
            subs.add(toCaProblem(sub));
        }
        String type = p.getType() == null ? "about:blank" : p.getType().toString();
        Optional<String> identifier = Optional.empty();
        try {
            identifier = p.getIdentifier().map(i -> i.getValue());
        } catch (RuntimeException malformedIdentifier) {
            // A malformed identifier object names nobody.
        }
        return new CaProblem(type, p.getDetail().orElse(""), identifier, subs);
    }

    Optional<Instant> parseRetryAfter(String header) {
        String h = header.strip();
        try {
            if (h.matches("\\d{1,9}")) {
                return Optional.of(clock.instant().plusSeconds(Long.parseLong(h)));
            }
            return Optional.of(ZonedDateTime.parse(h, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
        } catch (DateTimeParseException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static Optional<URI> uri(String s) {
        try {
            return Optional.of(URI.create(s));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static String rootMessage(Throwable t) {
        Throwable r = t;
        while (r.getCause() != null && r.getCause() != r) {
            r = r.getCause();
        }
        return r.getClass().getSimpleName() + (r.getMessage() == null ? "" : ": " + r.getMessage());
    }
}
