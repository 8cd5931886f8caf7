package io.certfleet.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.certfleet.app.Certfleet;
import io.certfleet.model.CaEnvironment;
import io.certfleet.model.IssuedCertificateRecord;
import io.certfleet.store.CertificateStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "certs", mixinStandardHelpOptions = true, description = "List the production certificates.")
final class CertsCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @picocli.CommandLine.Mixin
    TableOrJson output;

    @Override
    public Integer call() throws Exception {
        boolean json = output.json();
        try (Certfleet app = Certfleet.open(main.loadSettings())) {
            List<IssuedCertificateRecord> certs = new CertificateStore(app.store(), app.secrets()).list(CaEnvironment.PRODUCTION);
            if (json) {
                List<Map<String, Object>> out = new ArrayList<>();
                for (var c : certs) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("id", c.id());
                    m.put("names_count", c.names().size());
                    m.put("not_before", c.notBefore().toString());
                    m.put("not_after", c.notAfter().toString());
                    m.put("serial", c.serial());
                    m.put("names", c.names());
                    out.add(m);
                }
                System.out.println(new ObjectMapper().writeValueAsString(out));
            } else {
                System.out.printf("%6s %6s  %-20s  %s%n", "ID", "NAMES", "NOT AFTER", "FIRST NAME");
                for (var c : certs) {
                    System.out.printf("%6d %6d  %-20s  %s%n", c.id(), c.names().size(), c.notAfter(), c.names().get(0));
                }
            }
            return Main.OK;
        }
    }
}
