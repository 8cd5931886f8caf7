package io.certfleet.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.certfleet.model.NameserverAnswer;
import io.certfleet.model.PrecheckEvidence;
import io.certfleet.model.PrecheckResult;

/**
 * The evidence of a pre-check verdict as JSON: stored in {@code precheck_result.evidence} and printed by
 * {@code certfleet precheck --format json}.
 */
public final class EvidenceJson {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private EvidenceJson() {
    }

    public static String of(PrecheckResult r) {
        return node(r.evidence()).toString();
    }

    public static ObjectNode node(PrecheckEvidence e) {
        ObjectNode ev = MAPPER.createObjectNode();
        e.rcode().ifPresentOrElse(v -> ev.put("rcode", v), () -> ev.putNull("rcode"));
        e.ede().ifPresentOrElse(v -> ev.put("ede", v), () -> ev.putNull("ede"));
        e.resolver().ifPresentOrElse(v -> ev.put("resolver", v), () -> ev.putNull("resolver"));
        ArrayNode recs = ev.putArray("records");
        e.records().forEach(recs::add);
        ArrayNode nss = ev.putArray("nameservers");
        for (NameserverAnswer a : e.nameservers()) {
            ObjectNode n = nss.addObject();
            n.put("level", a.level());
            n.put("zone", a.zone());
            n.put("nameserver", a.nameserver());
            n.put("address", a.address());
            n.put("outcome", a.outcome());
            ArrayNode nr = n.putArray("records");
            a.records().forEach(nr::add);
        }
        return ev;
    }
}
